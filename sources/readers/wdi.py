"""World Development Indicators, in every layout the World Bank releases them, read by indicator
code whatever the file is called.

- API CSV (`API_<CODE>_DS2_...csv`): preamble (`Data Source`, `Last Updated Date`), UTF-8 BOM,
  years across, a trailing comma;
- legacy Excel (`Data` sheet, header found by its labels, metadata sheets beside it);
- DataBank export (CSV or Excel): `Series Name`, `Series Code`, `2019 [YR2019]` headers, `..`
  for missing, footer lines (`Data from database: ...`, `Last Updated: 06/28/2024`); one file
  may hold several series;
- tidy CSV (`Country Name,Country Code,Year,Value`): carries no indicator code, so it is taken
  as the series whose `tidy_file_stem` the file's name starts with (sources/publishers/series.yaml).
Region and income aggregates (WLD, AFE, HIC...) are kept apart from countries by the warehouse.
"""

from __future__ import annotations

import csv
import io
import re
from datetime import datetime
from pathlib import Path

import pandas as pd

from sources.excel import read_sheet
from sources.limits import limits
from sources.observations import (
    FileLayoutError,
    RawRead,
    note_rows_without_value,
    observations,
    parse_number,
    parse_values,
)
from sources.publishers.peek import Peek, cell_text

ID_COLUMNS = ["Country Name", "Country Code", "Indicator Name", "Indicator Code"]
DATABANK_IDS = ["Country Name", "Country Code", "Series Name", "Series Code"]
TIDY = ["Country Name", "Country Code", "Year", "Value"]
_YEAR = re.compile(r"^(\d{4})(?:\.0)?(?: \[YR\d{4}\])?$")
_LAST_UPDATED = re.compile(r"last updated(?: date)?\s*:?\s*(.+)$", re.I)


def _find_header(rows: list[list[str]], labels: list[str]) -> int | None:
    for number, row in enumerate(rows):
        if all(label in row for label in labels):
            return number
    return None


def _iso_date(text: str) -> str | None:
    text = text.strip().strip(",").strip()
    for fmt in ("%Y-%m-%d", "%Y-%m-%d %H:%M:%S", "%m/%d/%Y", "%d/%m/%Y", "%d %B %Y"):
        try:
            return datetime.strptime(text[:19] if "-" in text else text, fmt).date().isoformat()
        except ValueError:
            continue
    return None


def _updated(cells: list[list[str]]) -> str | None:
    """The `Last Updated Date` of a preamble or a DataBank footer, as an ISO date."""
    for row in cells:
        joined = " ".join(c for c in row if c)
        found = _LAST_UPDATED.search(joined)
        if found:
            date = _iso_date(found.group(1)) or _iso_date(row[1] if len(row) > 1 else "")
            if date:
                return date
    return None


def _edition(updated: str | None, years: list[str]) -> dict:
    if updated:
        return {
            "edition": updated,
            "order": updated,
            "vintage": f"World Development Indicators, last updated {updated}",
        }
    last = max((int(y) for y in years), default=None)
    label = f"data to {last}" if last else "edition not stated"
    return {
        "edition": label,
        "order": str(last or ""),
        "vintage": f"World Development Indicators, {label}",
    }


def _sheet_rows(peek: Peek, sheet: str) -> list[list[str]]:
    return [[cell_text(c) for c in row] for row in peek.top(sheet).values.tolist()]


def recognise(peek: Peek) -> list[dict] | None:
    """The indicator code(s) of a WDI download, and its edition (last-updated date)."""
    if peek.kind == "csv":
        rows = peek.lines
    else:
        sheet = "Data" if "Data" in peek.sheets else (peek.sheets[0] if peek.sheets else None)
        if sheet is None:
            return None
        rows = _sheet_rows(peek, sheet)
    header = _find_header(rows, ID_COLUMNS)
    if header is not None:
        first = rows[header + 1] if header + 1 < len(rows) else []
        code_at = rows[header].index("Indicator Code")
        code = first[code_at] if code_at < len(first) else ""
        if not code:
            return None
        years = [c for c in rows[header] if _YEAR.match(c)]
        updated = _updated(rows[:header])
        return [{"key": {"indicator": code}, **_edition(updated, years), "options": {}}]
    header = _find_header(rows, DATABANK_IDS)
    if header is not None:
        table, footer = _databank_table(peek.path, peek.kind)
        years = [_YEAR.match(c).group(1) for c in table.columns if _YEAR.match(str(c))]
        updated = _updated(footer)
        return [
            {
                "key": {"indicator": code},
                **_edition(updated, years),
                "options": {"indicator": code},
            }
            for code in sorted(set(table["Series Code"]) - {""})
        ]
    if peek.kind == "csv" and peek.lines and peek.lines[0] == TIDY:
        years = pd.read_csv(peek.path, usecols=["Year"], dtype=str, encoding="utf-8-sig")["Year"]
        found = _edition(None, [y for y in years.dropna().unique() if y.isdigit()])
        found["vintage"] = found["vintage"].replace(", ", " (tidy extract), ", 1)
        return [{"key": {"tidy_file": peek.path.name}, **found, "options": {}}]
    return None


def read(path: Path, indicator: str | None = None, tidy_indicator: str | None = None) -> RawRead:
    """Read a WDI download of any layout; `indicator` picks one series of a DataBank export;
    `tidy_indicator` is the code of a tidy file (which does not carry it)."""
    kind = _kind(path)
    if kind == "csv":
        lines = _csv_lines(path, 12)
        if lines and lines[0] == TIDY:
            return _read_tidy(path, tidy_indicator or "")
        if _find_header(lines, ID_COLUMNS) is not None:
            return _read_api_csv(path, lines)
    else:
        sheet = _data_sheet(path)
        top = read_sheet(path, sheet, header=None, nrows=12)
        rows = [[cell_text(c) for c in row] for row in top.values.tolist()]
        header = _find_header(rows, ID_COLUMNS)
        if header is not None:
            table = read_sheet(path, sheet, skiprows=header)
            table.columns = [cell_text(c) for c in table.columns]
            return _wide(path, table, header + 1, _updated(rows[:header]))
    table, footer = _databank_table(path, kind)
    if "Series Code" not in table.columns:
        rows = _csv_lines(path, 12) if kind == "csv" else []
        near = next(
            (n for n, row in enumerate(rows) if sum(c in row for c in ID_COLUMNS) >= 2), None
        )
        if near is not None:
            missing = [c for c in ID_COLUMNS if c not in rows[near]]
            raise FileLayoutError(path, f"missing columns {missing}", row=near + 1)
        raise FileLayoutError(
            path,
            "no WDI header (Country Name, Country Code, Indicator Name, Indicator Code; or "
            "Series Code for a DataBank export) in the first lines",
            row=1,
        )
    if indicator:
        table = table[table["Series Code"] == indicator]
    table = table.rename(columns={"Series Name": "Indicator Name", "Series Code": "Indicator Code"})
    table.columns = [
        _YEAR.match(str(c)).group(1) if _YEAR.match(str(c)) else c for c in table.columns
    ]
    return _wide(path, table, None, _updated(footer))


def _kind(path: Path) -> str:
    from sources.excel import workbook_kind

    kind = workbook_kind(path)
    return "csv" if kind == "other" else kind


def _data_sheet(path: Path) -> str:
    from sources.publishers.peek import sheet_names

    names = sheet_names(path, _kind(path))
    return "Data" if "Data" in names else names[0]


def _csv_lines(path: Path, count: int) -> list[list[str]]:
    with open(path, encoding="utf-8-sig", newline="", errors="replace") as fh:
        reader = csv.reader(fh)
        return [[c.strip() for c in row] for _, row in zip(range(count), reader, strict=False)]


def _read_api_csv(path: Path, lines: list[list[str]]) -> RawRead:
    header = _find_header(lines, ID_COLUMNS)
    table = pd.read_csv(
        path,
        skiprows=header,
        dtype=str,
        keep_default_na=False,
        encoding="utf-8-sig",
        nrows=limits().rows + 1,
    )
    return _wide(path, table, header + 1, _updated(lines[:header]))


def _databank_table(path: Path, kind: str) -> tuple[pd.DataFrame, list[list[str]]]:
    """A DataBank export: the table, and the footer lines below it."""
    if kind == "csv":
        with open(path, encoding="utf-8-sig", newline="") as fh:
            text = fh.read(limits().file_bytes)
        rows = [[c.strip() for c in row] for row in csv.reader(io.StringIO(text, newline=""))]
    else:
        table = read_sheet(path, _data_sheet(path), header=None)
        rows = [[cell_text(c) for c in row] for row in table.values.tolist()]
    header = _find_header(rows, DATABANK_IDS)
    if header is None:
        return pd.DataFrame(), rows[:5]
    columns = rows[header]
    body, footer = [], []
    for row in rows[header + 1 :]:
        if footer or not any(row) or len([c for c in row if c]) < 3:
            footer.append(row)  # a blank line ends the table; notes follow
            continue
        body.append((row + [""] * len(columns))[: len(columns)])
    table = pd.DataFrame(body, columns=columns)
    table["source_row"] = range(header + 2, header + 2 + len(table))
    return table, footer


def _read_tidy(path: Path, indicator_code: str) -> RawRead:
    """A tidy `Country Name,Country Code,Year,Value` file of one indicator."""
    table = pd.read_csv(
        path, dtype=str, keep_default_na=False, encoding="utf-8-sig", nrows=limits().rows + 1
    )
    table = table.rename(columns={"Year": "year", "Value": "value"})
    table["Indicator Name"] = ""
    table["Indicator Code"] = indicator_code
    table = table.assign(source_row=range(2, 2 + len(table)))
    return _finish(path, table, vintage=None)


def _wide(path: Path, table: pd.DataFrame, header_row: int | None, updated: str | None) -> RawRead:
    table = table.loc[:, [c for c in table.columns if c and not str(c).startswith("Unnamed")]]
    missing = [c for c in ID_COLUMNS if c not in table.columns]
    if missing:
        raise FileLayoutError(path, f"missing columns {missing}", row=header_row)
    years = [c for c in table.columns if str(c).isdigit()]
    if "source_row" not in table:
        table = table.assign(source_row=range(header_row + 1, header_row + 1 + len(table)))
    long = table.melt(
        id_vars=[*ID_COLUMNS, "source_row"], value_vars=years, var_name="year", value_name="value"
    )
    vintage = f"World Development Indicators, last updated {updated}" if updated else None
    return _finish(path, long, vintage=vintage)


def _finish(path: Path, table: pd.DataFrame, vintage: str | None) -> RawRead:
    result = RawRead(frame=pd.DataFrame(), vintage=vintage)
    values, keep = parse_values(
        result,
        table,
        "value",
        lambda rec: {
            "country_code": rec["Country Code"],
            "year": rec["year"],
            "value": str(rec["value"]),
        },
        lambda rec: f"column {rec['year']!r}",
    )
    years = table["year"].map(lambda y: parse_number(y)[0])
    bad_years = years.isna() & keep
    for index in bad_years[bad_years].index:
        rec = table.loc[index]
        result.reject(
            int(rec["source_row"]),
            {"country_code": rec["Country Code"], "year": rec["year"], "value": str(rec["value"])},
            [f"column 'Year': {rec['year']!r} is not a year"],
        )
    keep = keep & ~bad_years
    frame = pd.DataFrame(
        {
            "source_row": table["source_row"].astype("int64"),
            "country_name": table["Country Name"],
            "country_code": table["Country Code"],
            "indicator_name": table["Indicator Name"],
            "indicator_code": table["Indicator Code"],
            "year": years.where(keep, 0).astype("int64"),
            "value": values,
        }
    )
    result.frame = frame[keep].reset_index(drop=True)
    note_rows_without_value(result, frame, keep)
    return result


def harmonise(raw: pd.DataFrame, units: dict[str, tuple[str, int]] | None = None) -> pd.DataFrame:
    """WDI rows -> observations; series = indicator code with `_` for `.` (SDMX style); the unit
    is the one the series declares (sources/publishers/series.yaml)."""
    units = units or {}
    unit = raw["indicator_code"].map(lambda code: units.get(code, ("", 0)))
    frame = pd.DataFrame(
        {
            "series": raw["indicator_code"].str.replace(".", "_", regex=False),
            "ref_area": raw["country_code"],
            "time_period": raw["year"].astype(str),
            "obs_value": raw["value"],
            "unit_measure": unit.str[0],
            "unit_mult": unit.str[1],
            "source_row": raw["source_row"],
        }
    )
    return observations(frame)
