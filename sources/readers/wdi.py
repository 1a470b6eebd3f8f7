"""World Development Indicators, in the three layouts the World Bank releases them.

- tidy CSV (`Country Name,Country Code,Year,Value`), as population.csv;
- API CSV: 4 preamble lines, UTF-8 BOM, wide years, a trailing comma;
- legacy Excel (.xls, sheet `Data`, header on row 4, metadata sheets beside it).
Region and income aggregates (WLD, AFE, HIC...) are kept apart from countries.
"""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd

from sources.excel import read_sheet
from sources.observations import FileLayoutError, RawRead, observations, parse_number

UNITS = {
    "SP.POP.TOTL": ("PS", 0),
    "BX.TRF.PWKR.CD.DT": ("USD", 0),
    "BM.TRF.PWKR.CD.DT": ("USD", 0),
    "BX.TRF.PWKR.DT.GD.ZS": ("PT", 0),
    "SI.RMT.COST.IB.ZS": ("PT", 0),
}
ID_COLUMNS = ["Country Name", "Country Code", "Indicator Name", "Indicator Code"]


def read_tidy(path: Path, indicator_code: str = "SP.POP.TOTL") -> RawRead:
    """A tidy `Country Name,Country Code,Year,Value` file of one indicator."""
    table = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    expected = ["Country Name", "Country Code", "Year", "Value"]
    if list(table.columns) != expected:
        raise FileLayoutError(path, f"expected columns {expected}, found {list(table.columns)}", 1)
    table = table.rename(columns={"Year": "year", "Value": "value"})
    table["Indicator Name"] = ""
    table["Indicator Code"] = indicator_code
    return _finish(path, table, first_data_row=2, vintage=None)


def read_api_csv(path: Path) -> RawRead:
    """The WDI API download: preamble, BOM, wide years, trailing comma."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        preamble = [next(csv.reader(fh)) for _ in range(4)]
    vintage = _vintage([row for row in preamble if row])
    table = pd.read_csv(path, skiprows=4, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    return _wide(path, table, header_row=5, vintage=vintage)


def read_excel(path: Path) -> RawRead:
    """Legacy .xls download: sheet `Data`, header on row 4."""
    try:
        top = read_sheet(path, "Data", header=None, nrows=3)
        table = read_sheet(path, "Data", skiprows=3)
    except FileLayoutError as err:
        raise FileLayoutError(path, f"expected a 'Data' sheet: {err}") from err
    table.columns = [_year_label(c) for c in table.columns]
    vintage = _vintage([[str(v) for v in row if pd.notna(v)] for row in top.values.tolist()])
    return _wide(path, table, header_row=4, vintage=vintage)


def _year_label(column: object) -> str:
    if isinstance(column, float) and column.is_integer():
        return str(int(column))
    return str(column)


def _vintage(preamble: list[list[str]]) -> str | None:
    for row in preamble:
        if len(row) >= 2 and row[0].strip() == "Last Updated Date":
            return f"WDI, last updated {row[1].strip()[:10]}"
    return None


def _wide(path: Path, table: pd.DataFrame, header_row: int, vintage: str | None) -> RawRead:
    table = table.loc[:, [c for c in table.columns if not str(c).startswith("Unnamed")]]
    missing = [c for c in ID_COLUMNS if c not in table.columns]
    if missing:
        raise FileLayoutError(path, f"missing columns {missing}", row=header_row)
    years = [c for c in table.columns if str(c).isdigit()]
    table = table.assign(source_row=range(header_row + 1, header_row + 1 + len(table)))
    long = table.melt(
        id_vars=[*ID_COLUMNS, "source_row"], value_vars=years, var_name="year", value_name="value"
    )
    return _finish(path, long, first_data_row=None, vintage=vintage)


def _finish(path: Path, table: pd.DataFrame, first_data_row: int | None, vintage) -> RawRead:
    if first_data_row is not None:
        table = table.assign(source_row=range(first_data_row, first_data_row + len(table)))
    result = RawRead(frame=pd.DataFrame(), vintage=vintage)
    parsed = table["value"].map(parse_number)
    problems = parsed.str[1]
    for index in problems[problems.notna()].index:
        rec = table.loc[index]
        result.reject(
            int(rec["source_row"]),
            {"country_code": rec["Country Code"], "year": rec["year"], "value": str(rec["value"])},
            [f"column {rec['year']!r}: {problems[index]}"],
        )
    keep = problems.isna()
    values = parsed.str[0]
    frame = pd.DataFrame(
        {
            "source_row": table["source_row"].astype("int64"),
            "country_name": table["Country Name"],
            "country_code": table["Country Code"],
            "indicator_name": table["Indicator Name"],
            "indicator_code": table["Indicator Code"],
            "year": table["year"].astype("int64"),
            "value": pd.Series(values, dtype="float64", index=table.index),
        }
    )
    result.frame = frame[keep].reset_index(drop=True)
    return result


def harmonise(raw: pd.DataFrame) -> pd.DataFrame:
    """WDI rows -> observations; series = indicator code with `_` for `.` (SDMX style)."""
    units = raw["indicator_code"].map(lambda code: UNITS.get(code, ("", 0)))
    frame = pd.DataFrame(
        {
            "series": raw["indicator_code"].str.replace(".", "_", regex=False),
            "ref_area": raw["country_code"],
            "time_period": raw["year"].astype(str),
            "obs_value": raw["value"],
            "unit_measure": units.str[0],
            "unit_mult": units.str[1],
            "source_row": raw["source_row"],
        }
    )
    return observations(frame)
