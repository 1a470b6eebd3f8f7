"""YAML read with libyaml's C loader when PyYAML has it (ten times faster than the pure-Python
one: specs and the catalogue are read at every command), the safe loader either way."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_LOADER = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def load_yaml(text: str) -> Any:
    """Safe-load a YAML document (no Python objects, only plain data)."""
    return yaml.load(text, Loader=_LOADER)  # noqa: S506 - a safe loader


def read_yaml(path: Path | str) -> Any:
    return load_yaml(Path(path).read_text(encoding="utf-8"))
