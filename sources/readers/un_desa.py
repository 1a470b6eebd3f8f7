"""UN DESA International Migrant Stock 2019 (UN_MigrantStockTotal_2019.xlsx), tables 1-6.

Layout as released: a preamble, two header rows on Excel rows 15-16 (measure, then year or
period), then one row per area with `Sort order`, area name, `Notes`, `Code` (M49) and, except in
Table 2, `Type of data`. Missing values are `..`. Aggregates (WORLD, regions, income groups) carry
M49 codes of 900 and above or regional codes; they are kept apart from countries.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
from openpyxl.utils import get_column_letter

from sources.excel import read_sheet
from sources.geography import code_from_m49
from sources.observations import FileLayoutError, RawRead, observations, parse_number

SHEETS = ("Table 1", "Table 2", "Table 3", "Table 4", "Table 5", "Table 6")
HEADER_ROW = 15  # 1-based Excel row of the measure labels; periods are on the next row
ID_COLUMNS = {0: "sort_order", 1: "area_label", 2: "notes", 3: "m49"}

#: (measure label prefix, series, unit_measure, unit_mult)
MEASURES: tuple[tuple[str, str, str, int], ...] = (
    ("International migrant stock at mid-year", "IMS_STOCK", "PS", 0),
    ("Total population", "IMS_POP", "PS", 3),
    ("Total male population", "IMS_POP", "PS", 3),
    ("Total female population", "IMS_POP", "PS", 3),
    ("International migrant stock as a percentage", "IMS_STOCK_PCT_POP", "PT", 0),
    ("Female migrants as a percentage", "IMS_FEMALE_PCT", "PT", 0),
    ("Annual rate of change of the migrant stock", "IMS_GROWTH", "PT", 0),
    ("Estimated refugee stock", "IMS_REFUGEES", "PS", 0),
    ("Refugees and asylum seekers as a percentage", "IMS_REFUGEES_PCT_STOCK", "PT", 0),
    ("Annual rate of change of the refugee stock", "IMS_REFUGEES_GROWTH", "PT", 0),
)

BASIS = {"B": "foreign_born", "C": "foreign_citizen"}


def read(path: Path) -> RawRead:
    """Read tables 1-6 into one long frame of cells, keeping the publisher's labels."""
    try:
        book = read_sheet(path, list(SHEETS), header=None)
    except FileLayoutError as err:
        raise FileLayoutError(path, f"expected sheets {', '.join(SHEETS)}: {err}") from err
    result = RawRead(frame=pd.DataFrame())
    parts = [_read_sheet(path, sheet, table, result) for sheet, table in book.items()]
    result.frame = pd.concat(parts, ignore_index=True)
    return result


def _read_sheet(path: Path, sheet: str, table: pd.DataFrame, result: RawRead) -> pd.DataFrame:
    header = table.iloc[HEADER_ROW - 1]
    if not str(header.iloc[0]).startswith("Sort"):
        raise FileLayoutError(
            path, f"sheet {sheet!r}: expected the 'Sort order' header", row=HEADER_ROW, column="A"
        )
    periods = table.iloc[HEADER_ROW]
    measures = header.where(periods.notna()).ffill()
    has_type = str(header.iloc[4]).startswith("Type of data")
    data_columns = [i for i in range(len(header)) if pd.notna(periods.iloc[i])]
    body = table.iloc[HEADER_ROW + 1 :]
    records = []
    for offset, row in enumerate(body.itertuples(index=False)):
        source_row = HEADER_ROW + 2 + offset
        if pd.isna(row[1]):
            continue
        ids = {name: row[i] for i, name in ID_COLUMNS.items()}
        m49, m49_problem = parse_number(ids["m49"])
        type_of_data = _normalise_type(row[4]) if has_type else None
        for col in data_columns:
            value, problem = parse_number(row[col])
            if problem or m49_problem:
                result.reject(
                    source_row,
                    {
                        "sheet": sheet,
                        "area": str(row[1]),
                        "column": str(periods.iloc[col]),
                        "value": str(row[col]),
                        "code": str(ids["m49"]),
                    },
                    [f"sheet {sheet!r} column {_excel_column(col)}: {problem or m49_problem}"],
                )
                continue
            records.append(
                {
                    "source_row": source_row,
                    "sheet": sheet,
                    "sort_order": None if pd.isna(ids["sort_order"]) else int(ids["sort_order"]),
                    "area_label": str(ids["area_label"]).strip(),
                    "notes": None if pd.isna(ids["notes"]) else str(ids["notes"]),
                    "m49": None if m49 is None else int(m49),
                    "type_of_data": type_of_data,
                    "measure": str(measures.iloc[col]).strip(),
                    "period": str(periods.iloc[col]),
                    "value_raw": None if pd.isna(row[col]) else str(row[col]),
                    "value": value,
                }
            )
    frame = pd.DataFrame.from_records(records)
    frame["m49"] = frame["m49"].astype("Int64")
    frame["sort_order"] = frame["sort_order"].astype("Int64")
    return frame


def _normalise_type(cell: object) -> str | None:
    """`C R`, `CR`, `C B R` -> letters separated by one space; blank -> None."""
    if cell is None or pd.isna(cell):
        return None
    letters = [ch for ch in str(cell).upper() if ch.isalpha()]
    return " ".join(letters) or None


def _excel_column(index: int) -> str:
    return get_column_letter(index + 1)


def basis_of(type_of_data: str | None) -> str | None:
    """UN DESA type-of-data code -> basis of the stock estimate."""
    if not isinstance(type_of_data, str) or not type_of_data:
        return None
    letters = type_of_data.split()
    named = [BASIS[letter] for letter in ("B", "C") if letter in letters]
    if named:
        return "+".join(named)
    return "imputed" if "I" in letters else None


def _series_of(measure: str) -> tuple[str, str, int]:
    for prefix, series, unit, mult in MEASURES:
        if measure.startswith(prefix):
            return series, unit, mult
    raise ValueError(f"UN DESA measure {measure!r} is not mapped to a series")


def _sex_of(measure: str) -> str:
    text = measure.lower()
    if "(male)" in text or "total male" in text:
        return "M"
    if "(female)" in text or "total female" in text:
        return "F"
    return "_T"


def harmonise(raw: pd.DataFrame) -> pd.DataFrame:
    """Cells -> observations. Countries get ISO3 codes from M49; aggregates get `M49_<code>`."""
    frame = raw[raw["m49"].notna() & raw["value"].notna()].copy()
    mapped = frame["measure"].map(_series_of)
    frame["series"] = mapped.str[0]
    frame["unit_measure"] = mapped.str[1]
    frame["unit_mult"] = mapped.str[2]
    frame["sex"] = frame["measure"].map(_sex_of)
    # Table 4 is by definition the female share: its sex dimension is the total stock.
    frame["time_period"] = frame["period"].map(lambda p: re.sub(r"^(\d{4})-(\d{4})$", r"\1/\2", p))
    frame["ref_area"] = [code_from_m49(int(m)) or f"M49_{int(m)}" for m in frame["m49"]]
    frame["basis"] = frame["type_of_data"].map(basis_of)
    frame["obs_status"] = [
        "E" if isinstance(t, str) and "I" in t.split() else "A" for t in frame["type_of_data"]
    ]
    frame["obs_value"] = frame["value"]
    # The publisher lists Oceania (M49 909) twice, as a region and as an SDG region.
    frame = frame.drop_duplicates(["series", "ref_area", "time_period", "sex"], keep="first")
    return observations(
        frame[
            [
                "series",
                "ref_area",
                "time_period",
                "sex",
                "obs_value",
                "unit_measure",
                "unit_mult",
                "obs_status",
                "basis",
                "type_of_data",
                "source_row",
            ]
        ]
    )
