"""IOM Missing Migrants Project incidents (SDG 10.7.3), as IOM's Global Data Institute packages
them: one row per incident and kind of count, `location,origin,longitude,latitude,date,route,
cause_of_death,count,v` (`count` Dead or Missing, `v` the number of persons), whatever the file
is called and whatever dates it covers.

Events become counts here: persons dead and persons missing summed per year, country of the
incident (`location`, ISO3; the nearest country for deaths at sea), recorded origin and route.
An origin is used only when the record names one country: several countries (`Afghanistan,
Syrian Arab Republic`), `Unknown`, `Mixed`, a blank or a name no reference resolves all count
under "several or unknown origins" (XSU, declared beside UNHCR's UNK), never split by
guess. Counts are what was recorded:
a lower bound, never an estimate of all deaths.
"""

from __future__ import annotations

import csv
import re
from functools import cache
from pathlib import Path

import pandas as pd

from sources.geography import (
    REFERENCE_DIR,
    country_names,
    known_codes,
    normalise_label,
    world_bank_labels,
)
from sources.limits import limits
from sources.observations import FileLayoutError, RawRead, observations, parse_number
from sources.publishers.peek import Peek

COLUMNS = ["location", "origin", "date", "route", "count", "v"]
KINDS = {"Dead": "MMP_DEAD", "Missing": "MMP_MISSING"}
SEVERAL_OR_UNKNOWN = "XSU"  # declared in sources/reference/extra_areas.csv
NO_ROUTE = "ROUTE_NONE"
_DATE = re.compile(r"^(\d{4})-\d{2}-\d{2}$")


def route_code(route: str) -> str:
    """`Central Mediterranean` -> ROUTE_CENTRAL_MEDITERRANEAN; no route recorded -> ROUTE_NONE."""
    words = re.sub(r"[^A-Z0-9]+", "_", normalise_label(route).upper()).strip("_")
    return f"ROUTE_{words}" if words else NO_ROUTE


@cache
def _names() -> dict[str, str]:
    """English country names (pycountry), the World Bank's labels and the names declared in
    sources/reference/area_aliases.csv, normalised -> ISO3."""
    with open(REFERENCE_DIR / "area_aliases.csv", newline="", encoding="utf-8") as handle:
        names = {normalise_label(r["label"]): r["code"] for r in csv.DictReader(handle)}
    for name, code in country_names("en").items():
        names.setdefault(name, code)
    for label, (code, kind) in world_bank_labels().items():
        if kind == "country":
            names.setdefault(normalise_label(label), code)
    return names


def origin_code(origin: str) -> str:
    """The ISO3 code of a single recorded origin; XSU for several, unknown or unresolved."""
    text = str(origin or "").strip()
    if not text or "," in text:
        return SEVERAL_OR_UNKNOWN
    names = _names()
    for candidate in (text, re.sub(r"\s*\(.*\)\s*$", "", text)):
        code = names.get(normalise_label(candidate))
        if code and code in known_codes():
            return code
    return SEVERAL_OR_UNKNOWN


def recognise(peek: Peek) -> list[dict] | None:
    if peek.kind != "csv" or not peek.lines or not set(COLUMNS) <= set(peek.lines[0]):
        return None
    dates = pd.read_csv(peek.path, usecols=["date"], dtype=str, keep_default_na=False)["date"]
    last = max((d for d in dates if _DATE.match(d)), default="")
    label = f"incidents to {last}" if last else "edition not stated"
    return [
        {
            "key": {"table": "incidents"},
            "edition": label,
            "order": last,
            "vintage": f"IOM Missing Migrants Project, {label}",
            "options": {},
        }
    ]


def read(path: Path) -> RawRead:
    """Every incident row; a row whose date, kind or number cannot be read is rejected."""
    table = pd.read_csv(
        path, dtype=str, keep_default_na=False, encoding="utf-8-sig", nrows=limits().rows + 1
    )
    missing = [c for c in COLUMNS if c not in table.columns]
    if missing:
        raise FileLayoutError(path, f"missing columns {missing}", row=1)
    table["source_row"] = range(2, 2 + len(table))
    result = RawRead(frame=pd.DataFrame())
    keep = []
    for record in table.to_dict(orient="records"):
        problems = []
        if not _DATE.match(record["date"]):
            problems.append(f"column 'date': {record['date']!r} is not a date (YYYY-MM-DD)")
        if record["count"] not in KINDS:
            problems.append(f"column 'count': {record['count']!r} is neither Dead nor Missing")
        if not re.fullmatch(r"[A-Z]{3}", record["location"]):
            problems.append(f"column 'location': {record['location']!r} is not an ISO3 code")
        persons, why = parse_number(record["v"])
        if why or persons is None or persons < 0:
            problems.append(f"column 'v': {record['v']!r} is not a number of persons")
        if problems:
            result.reject(int(record["source_row"]), {k: record[k] for k in COLUMNS}, problems)
            continue
        keep.append({**record, "persons": persons})
    frame = pd.DataFrame(keep)
    result.frame = frame[["source_row", *COLUMNS, "persons"]] if len(frame) else frame
    return result


def harmonise(raw: pd.DataFrame) -> pd.DataFrame:
    """Incident rows -> counts of persons per kind, year, country of incident, recorded origin
    (`counterpart_area`) and route (`breakdown`)."""
    frame = pd.DataFrame(
        {
            "series": raw["count"].map(KINDS),
            "ref_area": raw["location"],
            "counterpart_area": raw["origin"].map(origin_code),
            "breakdown": raw["route"].map(route_code),
            "time_period": raw["date"].str[:4],
            "obs_value": raw["persons"].astype("float64"),
            "source_row": raw["source_row"].astype("int64"),
        }
    )
    keys = ["series", "ref_area", "counterpart_area", "breakdown", "time_period"]
    counts = frame.groupby(keys, as_index=False).agg(
        obs_value=("obs_value", "sum"), source_row=("source_row", "min")
    )
    return observations(counts, unit_measure="PS")
