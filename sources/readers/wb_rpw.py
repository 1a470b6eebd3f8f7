"""World Bank Remittance Prices Worldwide, corridor figures, as DataBank exports them (CSV or
Excel), whatever the file is called and whichever quarters it holds.

Layout: `Sending Countries Name, Sending Countries Code, Series Name, Series Code, Receiving
Countries Name, Receiving Countries Code` (DataBank writes two spaces in the last two; any run
of spaces is read as one), then one column per quarter (`2011Q1 [YR2011Q1]`; not every quarter
is present), `..` for missing; below the table, blank rows and a footer (`Data from database:
Remittance Prices Worldwide (Corridors)`, `Last Updated: 12/07/2020`). Countries are World Bank
codes (ISO 3166-1 alpha-3, and `KSV` for Kosovo, read as XKX). A negative cost (an exchange-rate
gain) is a real value, kept as published.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from sources.excel import read_sheet
from sources.limits import limits
from sources.observations import (
    FileLayoutError,
    RawRead,
    note_rows_without_value,
    observations,
    parse_values,
)
from sources.publishers.peek import Peek, cell_text
from sources.readers.wdi import _updated

IDS = [
    "Sending Countries Name",
    "Sending Countries Code",
    "Series Name",
    "Series Code",
    "Receiving Countries Name",
    "Receiving Countries Code",
]
_QUARTER = re.compile(r"^(\d{4})Q([1-4])(?: \[YR\d{4}Q[1-4]\])?$")
#: World Bank codes that are not ISO 3166-1 alpha-3, and the code EMP reads them as
WORLD_BANK_CODES = {"KSV": "XKX"}


def _clean(cell: object) -> str:
    return re.sub(r"\s+", " ", cell_text(cell)).strip()


def _header_at(rows: list[list[str]]) -> int | None:
    for number, row in enumerate(rows):
        cleaned = [_clean(c) for c in row]
        if all(label in cleaned for label in IDS) and any(_QUARTER.match(c) for c in cleaned):
            return number
    return None


def _rows(path: Path, kind: str) -> list[list[str]]:
    if kind == "csv":
        with open(path, encoding="utf-8-sig", newline="") as handle:
            text = handle.read(limits().file_bytes)
        return [[_clean(c) for c in row] for row in csv.reader(io.StringIO(text, newline=""))]
    from sources.publishers.peek import sheet_names

    names = sheet_names(path, kind)
    sheet = "Data" if "Data" in names else names[0]
    table = read_sheet(path, sheet, header=None)
    return [[_clean(c) for c in row] for row in table.values.tolist()]


def _edition(updated: str | None, quarters: list[str]) -> dict:
    if updated:
        return {
            "edition": updated,
            "order": updated,
            "vintage": f"Remittance Prices Worldwide (corridors), last updated {updated}",
        }
    last = max(quarters, default="")
    return {
        "edition": f"data to {last}" if last else "edition not stated",
        "order": last,
        "vintage": f"Remittance Prices Worldwide (corridors), data to {last}",
    }


def recognise(peek: Peek) -> list[dict] | None:
    """A corridor export: its series codes (ATCR.CORR, ...) and its last-updated date."""
    if peek.kind == "csv":
        top = [[_clean(c) for c in row] for row in peek.lines]
    else:
        sheet = "Data" if "Data" in peek.sheets else (peek.sheets[0] if peek.sheets else None)
        if sheet is None:
            return None
        top = [[_clean(c) for c in row] for row in peek.top(sheet).values.tolist()]
    if _header_at(top) is None:
        return None
    table, footer = _table(peek.path, peek.kind)
    quarters = [_period(c) for c in table.columns if _QUARTER.match(str(c))]
    edition = _edition(_updated(footer), quarters)
    return [
        {"key": {"series": code}, **edition, "options": {"series": code}}
        for code in sorted(set(table["Series Code"]) - {""})
    ]


def _period(column: str) -> str:
    found = _QUARTER.match(column)
    return f"{found[1]}-Q{found[2]}"


def _table(path: Path, kind: str) -> tuple[pd.DataFrame, list[list[str]]]:
    rows = _rows(path, kind)
    header = _header_at(rows)
    if header is None:
        raise FileLayoutError(
            path,
            "no Remittance Prices Worldwide header (Sending Countries Code, Receiving Countries "
            "Code, Series Code and quarters such as 2020Q3 [YR2020Q3]) in the first lines",
            row=1,
        )
    columns = rows[header]
    body, footer = [], []
    for row in rows[header + 1 :]:
        if footer or not any(row) or len([c for c in row if c]) < 3:
            footer.append(row)  # a blank row ends the table; the footer follows
            continue
        body.append((row + [""] * len(columns))[: len(columns)])
    table = pd.DataFrame(body, columns=columns)
    table["source_row"] = range(header + 2, header + 2 + len(table))
    return table, footer


def read(path: Path, series: str | None = None) -> RawRead:
    """Every corridor and quarter of the export (of one series when `series` is given)."""
    from sources.excel import workbook_kind

    kind = "csv" if workbook_kind(path) == "other" else workbook_kind(path)
    table, footer = _table(path, kind)
    if series:
        table = table[table["Series Code"] == series]
    quarters = [c for c in table.columns if _QUARTER.match(str(c))]
    long = table.melt(
        id_vars=[*IDS, "source_row"], value_vars=quarters, var_name="quarter", value_name="cell"
    )
    updated = _updated(footer)
    result = RawRead(
        frame=pd.DataFrame(), vintage=_edition(updated, [])["vintage"] if updated else None
    )
    values, keep = parse_values(
        result,
        long,
        "cell",
        lambda rec: {
            "sending": rec["Sending Countries Code"],
            "receiving": rec["Receiving Countries Code"],
            "quarter": rec["quarter"],
            "value": rec["cell"],
        },
        lambda rec: f"column {rec['quarter']!r}",
    )
    frame = pd.DataFrame(
        {
            "source_row": long["source_row"].astype("int64"),
            "sending_code": long["Sending Countries Code"],
            "sending_name": long["Sending Countries Name"],
            "receiving_code": long["Receiving Countries Code"],
            "receiving_name": long["Receiving Countries Name"],
            "series_code": long["Series Code"],
            "series_name": long["Series Name"],
            "period": long["quarter"].map(_period),
            "value": values,
        }
    )
    result.frame = frame[keep].reset_index(drop=True)
    note_rows_without_value(result, frame, keep)  # corridors with no value in any quarter
    return result


def harmonise(raw: pd.DataFrame, unit: str = "PT") -> pd.DataFrame:
    """Corridor rows -> observations: ref_area = the receiving country, counterpart_area = the
    sending one, a quarter per period; series = the series code with `_` for `.`."""
    code = lambda s: s.map(lambda c: WORLD_BANK_CODES.get(c, c))  # noqa: E731
    frame = pd.DataFrame(
        {
            "series": "RPW_" + raw["series_code"].str.replace(".", "_", regex=False),
            "ref_area": code(raw["receiving_code"]),
            "counterpart_area": code(raw["sending_code"]),
            "time_period": raw["period"],
            "obs_value": raw["value"],
            "unit_measure": unit,
            "source_row": raw["source_row"],
        }
    )
    return observations(frame)
