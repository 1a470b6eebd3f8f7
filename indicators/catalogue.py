"""Loading and checking the declarative indicator catalogue (indicators/catalogue.yaml)."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from indicators.methods import METHODS
from sources.census.codebook import codebooks
from sources.publishers.registry import series_by_id
from sources.specs import SDG_FEED, SourceSpec, spec_set
from sources.yaml_files import read_yaml

CATALOGUE_PATH = Path(__file__).parent / "catalogue.yaml"
PARTS = {"A", "B", "C", "D", "Annex"}
NATIONAL_ONLY = "national"  # method of an indicator fed only by national source specs
CENSUS = "census"  # method of an indicator computed from census microdata (its `series`)
REQUIRED = ("id", "name", "part", "module", "definition", "formula", "unit", "sources", "method")


class CatalogueError(ValueError):
    """A catalogue entry is incomplete or names something that does not exist."""


@dataclass(frozen=True)
class Indicator:
    id: str
    name: str
    part: str
    module: str
    definition: str
    formula: str
    unit: str
    sources: tuple[str, ...]
    method: str
    disaggregations: tuple[str, ...] = ()
    denominator: str | None = None
    numerator: str | None = None
    official_definition: str | None = None
    sdg_indicator: str | None = None
    sdmx_series: str | None = None
    series: tuple[str, ...] = ()
    #: the kind of national source that would give it, where none at hand does (Part D says so)
    national_source: str | None = None
    extra: dict = field(default_factory=dict)


def extra_catalogue_files() -> tuple[Path, ...]:
    """A working group's own catalogue entries: every `*.yaml` in the folder EMP_CATALOGUE
    names (for example `catalogue/` beside its specs), checked like the bundled catalogue."""
    folder = os.environ.get("EMP_CATALOGUE", "").strip()
    if not folder:
        return ()
    return tuple(sorted(Path(folder).expanduser().glob("*.yaml")))


def _entries(path: Path) -> list:
    try:
        document = read_yaml(Path(path)) or {}
    except (OSError, yaml.YAMLError) as err:
        raise CatalogueError(f"{path}: not readable as YAML: {err}") from None
    entries = document.get("indicators") if isinstance(document, dict) else None
    if not isinstance(entries, list):
        raise CatalogueError(f"{path}: a catalogue file holds a list under `indicators:`")
    return entries


def catalogue_ids(path: Path = CATALOGUE_PATH) -> frozenset[str]:
    """The ids the catalogue declares, the working group's own entries included (read without
    checking them, so specs can be checked against them)."""
    return _catalogue_ids(Path(path), extra_catalogue_files() if path == CATALOGUE_PATH else ())


@cache
def _catalogue_ids(path: Path, extra: tuple[Path, ...]) -> frozenset[str]:
    ids = set()
    for file in (path, *extra):
        try:
            entries = _entries(file)
        except CatalogueError:
            continue
        ids |= {str(e["id"]) for e in entries if isinstance(e, dict) and e.get("id")}
        ids |= {  # an Open SDG file feeds the indicator of its SDG number
            f"{SDG_FEED}{e['sdg_indicator']}"
            for e in entries
            if isinstance(e, dict) and e.get("sdg_indicator")
        }
    return frozenset(ids)


def load_catalogue(
    path: Path = CATALOGUE_PATH,
    specs: dict[str, SourceSpec] | None = None,
    held_back: frozenset[str] | set[str] = frozenset(),
    strict_sources: bool = True,
) -> tuple[Indicator, ...]:
    """Read and check the catalogue against the public sources and the source specs; every
    problem is reported with the entry it belongs to. `held_back` names spec ids that exist
    but are held back: an indicator may still list them (it has no value from them now).
    With `strict_sources` off (a refresh), a source no spec declares any more (a held-back
    spec whose id cannot be read) is not an error: the indicator simply has no value from it;
    `emp check --specs` keeps them strict and names them."""
    if specs is None:
        found = spec_set()
        specs, held_back = found.specs, found.held_back_ids
    files = (Path(path), *(extra_catalogue_files() if Path(path) == CATALOGUE_PATH else ()))
    entries = [
        (file, number, entry)
        for file in files
        for number, entry in enumerate(_entries(file), start=1)
    ]
    problems: list[str] = []
    seen: set[str] = set()
    result = []
    for file, number, entry in entries:
        if not isinstance(entry, dict):
            problems.append(f"{file.name} entry {number}: an entry is a mapping of fields")
            continue
        label = f"{file.name} entry {number} ({entry.get('id', '?')})"
        # an indicator no source at hand gives is declared with `sources: []` and the kind of
        # national source that would (`national_source`), until a spec feeds it
        waiting = entry.get("method") == NATIONAL_ONLY and entry.get("national_source")
        missing = [
            key
            for key in REQUIRED
            if not entry.get(key) and not (key == "sources" and waiting and "sources" in entry)
        ]
        if missing:
            problems.append(f"{label}: missing {', '.join(missing)}")
            continue
        if entry["id"] in seen:
            problems.append(f"{label}: duplicate id (declared already in the catalogue)")
        seen.add(entry["id"])
        if entry["part"] not in PARTS:
            problems.append(f"{label}: part {entry['part']!r} is not one of {sorted(PARTS)}")
        if entry["method"] == CENSUS and not entry.get("series"):
            problems.append(f"{label}: a census indicator lists its census `series`")
        if entry["method"] not in METHODS and entry["method"] not in (NATIONAL_ONLY, CENSUS):
            problems.append(f"{label}: method {entry['method']!r} is not in indicators/methods.py")
        census = {f"census_{cb.country.lower()}" for cb in codebooks().values()}
        unknown = [
            s
            for s in entry["sources"]
            if s not in series_by_id() and s not in specs and s not in census and s not in held_back
        ]
        if unknown and strict_sources:
            problems.append(f"{label}: unknown sources {unknown}")
        known = {k: entry.get(k) for k in Indicator.__dataclass_fields__ if k != "extra"}
        known["sources"] = tuple(entry["sources"])
        known["disaggregations"] = tuple(entry.get("disaggregations") or ())
        known["series"] = tuple(entry.get("series") or ())
        extra = {k: v for k, v in entry.items() if k not in Indicator.__dataclass_fields__}
        result.append(Indicator(**known, extra=extra))
    # A spec feeding an indicator not declared here is held back by the spec set
    # (sources/specs.py), not an error of the catalogue.
    if problems:
        raise CatalogueError("indicator catalogue:\n  " + "\n  ".join(problems))
    return tuple(result)


def catalogue() -> tuple[Indicator, ...]:
    """The catalogue in force (with the working group's own entries); a source held back with
    an unreadable spec is no error here."""
    files = extra_catalogue_files()
    return _catalogue(tuple((f, f.stat().st_mtime_ns) for f in files))


@cache
def _catalogue(extra: tuple) -> tuple[Indicator, ...]:
    return load_catalogue(strict_sources=False)
