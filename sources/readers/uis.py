"""UNESCO Institute for Statistics bulk data (BDDS) files, whatever they are called: long CSV
`indicatorId,geoUnit,year,value,qualifier,magnitude`, one file per indicator or several, and
beside them the release's indicator list (`indicatorId,name,theme,lastDataUpdate,
lastDataUpdateDescription,...`), which names the release ("February 2025 Data Release",
updated 2025-02-23) and holds nothing to load.

`qualifier` is UIS's own: `UIS_EST` (a UIS estimate) and `NAT_EST` (a national estimate) are
carried as the SDMX flag E (estimated); the raw table keeps which. Regional units (`SDG: ...`,
`WB: ...`) are kept apart from countries by the warehouse.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from sources.limits import limits
from sources.observations import FileLayoutError, RawRead, observations, parse_values
from sources.publishers.peek import Peek

DATA = ["indicatorId", "geoUnit", "year", "value", "qualifier", "magnitude"]
INDICATOR_LIST = ["indicatorId", "name", "theme", "lastDataUpdate", "lastDataUpdateDescription"]
QUALIFIERS = {"UIS_EST": "UIS estimate", "NAT_EST": "national estimate"}


def _release(folder: Path) -> dict | None:
    """The release named by an indicator list in the same folder, if there is one."""
    for path in sorted(folder.glob("*.csv")):
        try:
            with open(path, encoding="utf-8-sig", newline="") as handle:
                rows = list(csv.reader(handle))
        except (OSError, UnicodeDecodeError):
            continue
        if rows and rows[0][: len(INDICATOR_LIST)] == INDICATOR_LIST:
            found = {r[3]: r[4] for r in rows[1:] if len(r) > 4 and r[3]}
            if found:
                date = max(found)
                return {
                    "edition": date,
                    "order": date,
                    "vintage": f"UNESCO UIS, {found[date]} (updated {date})",
                }
    return None


def recognise(peek: Peek) -> list[dict] | None:
    """A UIS bulk-data file (one entry per indicator in it) or the release's indicator list."""
    if peek.kind != "csv" or not peek.lines:
        return None
    header = peek.lines[0]
    if header[: len(INDICATOR_LIST)] == INDICATOR_LIST:
        return [{"key": {}, "companion": "UNESCO UIS list of the release's indicators"}]
    if header[: len(DATA)] != DATA:
        return None
    table = pd.read_csv(peek.path, dtype=str, keep_default_na=False, usecols=DATA[:3])
    years = sorted(y for y in table["year"].unique() if y.isdigit())
    edition = _release(peek.folder) or {
        "edition": f"data to {years[-1]}" if years else "edition not stated",
        "order": years[-1] if years else "",
        "vintage": f"UNESCO UIS, data to {years[-1]}" if years else "UNESCO UIS",
    }
    return [
        {"key": {"indicator": code}, **edition, "options": {"indicator": code}}
        for code in sorted(set(table["indicatorId"]) - {""})
    ]


def read(path: Path, indicator: str) -> RawRead:
    """The rows of one indicator; a value that is not a number is rejected with its row."""
    table = pd.read_csv(
        path, dtype=str, keep_default_na=False, encoding="utf-8-sig", nrows=limits().rows + 1
    )
    missing = [c for c in DATA[:4] if c not in table.columns]
    if missing:
        raise FileLayoutError(path, f"missing columns {missing}", row=1)
    table["source_row"] = range(2, 2 + len(table))
    table = table[table["indicatorId"] == indicator]
    release = _release(path.parent)
    result = RawRead(frame=pd.DataFrame(), vintage=release["vintage"] if release else None)
    values, keep = parse_values(
        result,
        table,
        "value",
        lambda rec: {"geoUnit": rec["geoUnit"], "year": rec["year"], "value": rec["value"]},
        lambda _rec: "column 'value'",
    )
    result.frame = pd.DataFrame(
        {
            "source_row": table["source_row"].astype("int64"),
            "indicator_id": table["indicatorId"],
            "geo_unit": table["geoUnit"],
            "year": table["year"],
            "value": values,
            "qualifier": table.get("qualifier", ""),
            "magnitude": table.get("magnitude", ""),
        }
    )[keep].reset_index(drop=True)
    return result


def harmonise(raw: pd.DataFrame, unit: str = "PS") -> pd.DataFrame:
    """UIS rows -> observations: series `UIS_<indicator>`, flag E with the qualifier in words."""
    qualifier = raw["qualifier"].fillna("")
    frame = pd.DataFrame(
        {
            "series": "UIS_" + raw["indicator_id"].str.replace(".", "_", regex=False),
            "ref_area": raw["geo_unit"],
            "time_period": raw["year"].astype(str),
            "obs_value": raw["value"],
            "unit_measure": unit,
            "obs_status": qualifier.map(lambda q: "E" if q in QUALIFIERS else "A"),
            "source_row": raw["source_row"],
        }
    )
    return observations(frame)
