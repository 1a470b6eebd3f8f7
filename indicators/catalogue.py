"""Loading and checking the declarative indicator catalogue (indicators/catalogue.yaml)."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

import yaml

from indicators.methods import METHODS
from sources.census.codebook import codebooks
from sources.publishers.registry import series_by_id
from sources.specs import SourceSpec, spec_set

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
    sdg_indicator: str | None = None
    sdmx_series: str | None = None
    series: tuple[str, ...] = ()
    extra: dict = field(default_factory=dict)


@cache
def catalogue_ids(path: Path = CATALOGUE_PATH) -> frozenset[str]:
    """The ids the catalogue declares (read without checking it, so specs can be checked
    against them)."""
    document = yaml.safe_load(Path(path).read_text(encoding="utf-8")) or {}
    entries = document.get("indicators") or [] if isinstance(document, dict) else []
    return frozenset(str(e["id"]) for e in entries if isinstance(e, dict) and e.get("id"))


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
    document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    entries = document.get("indicators") or []
    problems: list[str] = []
    seen: set[str] = set()
    result = []
    for number, entry in enumerate(entries, start=1):
        label = f"{path.name} entry {number} ({entry.get('id', '?')})"
        missing = [key for key in REQUIRED if not entry.get(key)]
        if missing:
            problems.append(f"{label}: missing {', '.join(missing)}")
            continue
        if entry["id"] in seen:
            problems.append(f"{label}: duplicate id")
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


@cache
def catalogue() -> tuple[Indicator, ...]:
    """The catalogue in force; a source held back with an unreadable spec is no error here."""
    return load_catalogue(strict_sources=False)
