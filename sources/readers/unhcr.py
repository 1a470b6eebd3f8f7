"""UNHCR Refugee Data Finder exports: population figures and asylum decisions.

Layout as released: a preamble (extraction date, licence...; 14 lines in population.csv,
none in the asylum-decisions export), then a CSV header starting with `Year`. `-` means not
applicable. Countries are coded by UNHCR in ISO3, plus its own codes for unknown origin (UNK),
stateless (XXA) and Tibetan (TIB), declared in `sources/reference/extra_areas.csv`.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd

from sources.geography import known_codes
from sources.observations import FileLayoutError, RawRead, observations, parse_number
from sources.publishers.peek import Peek

MAX_PREAMBLE_LINES = 40

POPULATION_COLUMNS = {
    "Year": "year",
    "Country of origin": "origin_name",
    "Country of origin (ISO)": "origin_iso",
    "Country of asylum": "asylum_name",
    "Country of asylum (ISO)": "asylum_iso",
    "Refugees under UNHCR's mandate": "refugees",
    "Asylum-seekers": "asylum_seekers",
    "IDPs of concern to UNHCR": "idps",
    "Other people in need of international protection": "other_in_need",
    "Stateless persons": "stateless",
    "Host Community": "host_community",
    "Others of concern": "others_of_concern",
}
POPULATION_SERIES = {
    "refugees": "UNHCR_REF",
    "asylum_seekers": "UNHCR_ASY",
    "idps": "UNHCR_IDP",
    "other_in_need": "UNHCR_OIP",
    "stateless": "UNHCR_STA",
    "host_community": "UNHCR_HST",
    "others_of_concern": "UNHCR_OOC",
}
DECISION_COLUMNS = {
    "Year": "year",
    "Country of origin": "origin_name",
    "Country of origin (ISO)": "origin_iso",
    "Country of asylum": "asylum_name",
    "Country of asylum (ISO)": "asylum_iso",
    "Authority": "authority",
    "Stage of procedure": "stage",
    "Cases / Persons": "cases_or_persons",
    "Recognized decisions": "recognized",
    "Complementary protection": "complementary",
    "Rejected decisions": "rejected",
    "Otherwise closed": "otherwise_closed",
    "Total decisions": "total",
}
DECISION_SERIES = {
    "recognized": "UNHCR_DEC_RECOGNIZED",
    "complementary": "UNHCR_DEC_COMPLEMENTARY",
    "rejected": "UNHCR_DEC_REJECTED",
    "otherwise_closed": "UNHCR_DEC_CLOSED",
    "total": "UNHCR_DEC_TOTAL",
}


#: What an export must have to be read; the other measures may be absent (exports filtered by
#: population type, older years without host communities) and are then empty.
REQUIRED = {
    "population": ["year", "origin_iso", "asylum_iso", "refugees"],
    "asylum_decisions": ["year", "origin_iso", "asylum_iso", "total"],
}


def _normal(label: str) -> str:
    """`Country of origin (ISO)` and `Country of Origin ISO` alike."""
    return " ".join(re.sub(r"[()]", " ", label).lower().split())


def _columns_of(header: list[str], columns: dict[str, str]) -> dict[str, str]:
    """The file's header label -> harmonised name, for the labels this table knows."""
    wanted = {_normal(label): name for label, name in columns.items()}
    return {label: wanted[_normal(label)] for label in header if _normal(label) in wanted}


def recognise(peek: Peek) -> list[dict] | None:
    """A Refugee Data Finder export (population figures, asylum decisions) of any year range,
    or its footnotes table (documentation, nothing to load)."""
    if peek.kind != "csv":
        return None
    for number, row in enumerate(peek.lines):
        if row[:2] == ["Footnote", "Year"] and "Country of asylum (ISO)" in row:
            return [{"key": {}, "companion": "UNHCR footnotes to the Refugee Data Finder tables"}]
        if not row or row[0] != "Year":
            continue
        kinds = (("population", POPULATION_COLUMNS), ("asylum_decisions", DECISION_COLUMNS))
        for table, columns in kinds:
            if set(REQUIRED[table]) <= set(_columns_of(row, columns).values()):
                years = _years(peek.path, number)
                return [{"key": {"table": table}, **edition(peek.lines[:number], years)}]
        return None
    return None


def _years(path: Path, header_line: int) -> list[str]:
    years = pd.read_csv(
        path, skiprows=header_line, usecols=["Year"], dtype=str, encoding="utf-8-sig"
    )["Year"]
    return sorted({y for y in years.dropna() if y.isdigit()})


def edition(preamble: list[list[str]], years: list[str]) -> dict:
    """The `Last updated` date of the preamble (else the extraction date, else the last year
    seen) as the edition."""
    from sources.readers.wdi import _iso_date

    for label in ("Last updated", "Date extracted"):
        for row in preamble:
            if len(row) > 1 and row[0].strip().rstrip(":").lower() == label.lower():
                date = _iso_date(row[1].split()[0] if label == "Date extracted" else row[1])
                if date:
                    word = "last updated" if label == "Last updated" else "extracted"
                    return {"edition": date, "order": date, "vintage": f"UNHCR, {word} {date}"}
    last = max((int(y) for y in years), default=None)
    label = f"data to {last}" if last else "edition not stated"
    return {"edition": label, "order": str(last or ""), "vintage": f"UNHCR, {label}"}


def _read(path: Path, columns: dict[str, str], measures: list[str]) -> RawRead:
    preamble = _preamble(path)
    vintage = edition(preamble, [])["vintage"] if preamble else None
    table = pd.read_csv(
        path, skiprows=len(preamble), dtype=str, keep_default_na=False, encoding="utf-8-sig"
    )
    header_row = len(preamble) + 1
    found = _columns_of(list(table.columns), columns)
    kind = "population" if "refugees" in columns.values() else "asylum_decisions"
    missing = [
        label
        for label, name in columns.items()
        if name in REQUIRED[kind] and name not in found.values()
    ]
    if missing:
        raise FileLayoutError(path, f"missing columns {missing}", row=header_row)
    table = table.rename(columns=found)
    for name in columns.values():
        if name not in table:
            table[name] = ""  # a measure this export does not carry: empty, never zero
    table = table[list(columns.values())]
    table.insert(0, "source_row", range(header_row + 1, header_row + 1 + len(table)))
    result = RawRead(frame=pd.DataFrame(), vintage=vintage)
    reasons: dict[int, list[str]] = {}
    for column in measures:
        parsed = table[column].map(parse_number)
        for index, problem in parsed.str[1].dropna().items():
            reasons.setdefault(index, []).append(
                f"column {_original(columns, column)!r}: {problem}"
            )
        table[column] = parsed.str[0].astype("Float64")
    year = table["year"].map(parse_number)
    for index, (value, problem) in year.items():
        if problem or value is None:
            reasons.setdefault(index, []).append(f"column 'Year': {table.at[index, 'year']!r}")
    known = known_codes()
    for column in ("origin_iso", "asylum_iso"):
        for index in table.index[~table[column].isin(known)]:
            reasons.setdefault(index, []).append(
                f"column {_original(columns, column)!r}: unknown country code "
                f"{table.at[index, column]!r}"
            )
    for index, why in reasons.items():
        result.reject(
            int(table.at[index, "source_row"]), table.loc[index].astype(str).to_dict(), why
        )
    good = table.drop(index=list(reasons))
    good["year"] = good["year"].astype("int64")
    result.frame = good.reset_index(drop=True)
    return result


def _preamble(path: Path) -> list[list[str]]:
    """The lines before the header (the first line whose first field is `Year`)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        for number, row in enumerate(csv.reader(fh)):
            if row and row[0].strip() == "Year":
                fh.seek(0)
                return [r for _, r in zip(range(number), csv.reader(fh), strict=False)]
            if number >= MAX_PREAMBLE_LINES:
                break
    raise FileLayoutError(
        path,
        f"no header line starting with 'Year' in the first {MAX_PREAMBLE_LINES} lines",
        row=1,
        column="Year",
    )


def _original(columns: dict[str, str], name: str) -> str:
    return next(k for k, v in columns.items() if v == name)


def read_population(path: Path) -> RawRead:
    return _read(path, POPULATION_COLUMNS, list(POPULATION_SERIES))


def read_decisions(path: Path) -> RawRead:
    return _read(path, DECISION_COLUMNS, list(DECISION_SERIES))


def _pairs(table: pd.DataFrame, series: dict[str, str], unit: str) -> pd.DataFrame:
    """Wide measures per (year, origin, asylum) -> observations with ref_area = asylum."""
    ids = [c for c in ("source_row", "year", "origin_iso", "asylum_iso") if c in table]
    long = table.melt(
        id_vars=ids, value_vars=list(series), var_name="measure", value_name="obs_value"
    )
    frame = pd.DataFrame(
        {
            "series": long["measure"].map(series),
            "ref_area": long["asylum_iso"],
            "counterpart_area": long["origin_iso"],
            "time_period": long["year"].astype(str),
            "obs_value": long["obs_value"].astype("float64"),
            "unit_measure": unit,
        }
    )
    if "source_row" in long:
        frame["source_row"] = long["source_row"]
    return observations(frame)


def harmonise_population(raw: pd.DataFrame) -> pd.DataFrame:
    """End-year stocks: ref_area = country of asylum, counterpart_area = country of origin."""
    return _pairs(raw, POPULATION_SERIES, "PS")


def harmonise_decisions(raw: pd.DataFrame) -> pd.DataFrame:
    """Decisions summed over authority, procedure stage and cases/persons, per year and pair."""
    summed = raw.groupby(["year", "origin_iso", "asylum_iso"], as_index=False)[
        list(DECISION_SERIES)
    ].sum(min_count=1)
    return _pairs(summed, DECISION_SERIES, "NUMBER")
