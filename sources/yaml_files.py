"""YAML read with libyaml's C loader when PyYAML has it (ten times faster than the pure-Python
one: specs and the catalogue are read at every command), the safe loader either way.

A file is checked before the loader sees it: it must be UTF-8 text, and its nesting must stay
shallow (libyaml recurses once per level, and a document nested some ten thousand levels deep
crashes the process). Both faults raise YamlFileError, a `yaml.YAMLError`, so every reader
that holds back an unreadable YAML file holds these back too."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)

#: deeper than any spec, catalogue or registry needs; far below what crashes libyaml
MAX_DEPTH = 64
#: values a document may stand for once its aliases are expanded (`*a` repeats what `&a`
#: names): a few aliases nested nine deep would stand for a billion
MAX_EXPANDED = 1_000_000
#: larger than any configuration file EMP reads
MAX_BYTES = 16 * 1024 * 1024


class YamlFileError(yaml.YAMLError):
    """A YAML file that is not UTF-8 text or is nested too deep, in one line."""


def load_yaml(text: str) -> Any:
    """Safe-load a YAML document (no Python objects, only plain data)."""
    depth, line = nesting_depth(text)
    if depth > MAX_DEPTH:
        raise YamlFileError(
            f"nested {depth} levels deep at line {line} (at most {MAX_DEPTH} are read)"
        )
    document = yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader
    if "&" in text and "*" in text and _expanded_size(document) > MAX_EXPANDED:
        raise YamlFileError(
            f"its aliases expand to more than {MAX_EXPANDED:,} values (an alias bomb); refused"
        )
    return document


def _expanded_size(document: Any) -> int:
    """How many values the document stands for with every alias expanded, counted up to just
    past MAX_EXPANDED (shared objects are counted each time they are referred to)."""
    count, stack = 0, [document]
    while stack and count <= MAX_EXPANDED:
        item = stack.pop()
        count += 1
        if isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return count


def read_yaml(path: Path | str) -> Any:
    path = Path(path)
    if path.stat().st_size > MAX_BYTES:
        raise YamlFileError(f"{path.stat().st_size:,} bytes, more than {MAX_BYTES:,}; refused")
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        line = data[: err.start].count(b"\n") + 1
        raise YamlFileError(
            f"not UTF-8 text: byte 0x{data[err.start]:02x} on line {line} (encoding); save "
            "the file as UTF-8"
        ) from None
    return load_yaml(text)


def nesting_depth(text: str) -> tuple[int, int]:
    """(deepest nesting, its line) counting flow brackets outside quoted scalars and comments,
    plus block indentation (a level per two columns): an upper bound of what libyaml will
    recurse through, found in one linear pass."""
    deepest, where, flow = 0, 1, 0
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.lstrip(" ")
        block = (len(line) - len(stripped)) // 2 + stripped.count("- ", 0, _dash_run(stripped))
        quote = None
        for char in stripped:
            if quote:
                if char == quote:
                    quote = None
            elif char in "'\"":
                quote = char
            elif char == "#":
                break
            elif char in "[{":
                flow += 1
                if block + flow > deepest:
                    deepest, where = block + flow, number
            elif char in "]}":
                flow = max(flow - 1, 0)
        if block + flow > deepest:
            deepest, where = block + flow, number
    return deepest, where


def _dash_run(text: str) -> int:
    """How far a run of sequence dashes (`- - - x`) opening a line reaches."""
    end = 0
    while text.startswith("- ", end):
        end += 2
    return end
