"""World Bank / KNOMAD bilateral matrices of any year (migrant stocks and remittances).

Layout as released: a title (`Bilateral Estimates of Migrant Stocks in 2017`, `Bilateral
Remittance Estimates for 2017 ... (April 2018 Version)`), a row of area labels across, then one
row per country, then `Other North`/`Other South`/`World` (or `WORLD`) rows, a blank row and
notes. The matrix sheet is found by its name or title (`Bilateral_Migration_2017`,
`Bilateral Remittance Matrix 2021`), the label row by its content, the year from the sheet name
or title. Areas are named, not coded: names go through the declared crosswalk
`sources/reference/world_bank_labels.csv`.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from sources.excel import read_sheet
from sources.geography import code_from_world_bank_label
from sources.observations import FileLayoutError, RawRead, observations, parse_number
from sources.publishers.peek import Peek, cell_text

_SHEET = re.compile(r"bilateral[\s_]*(?:estimates[\s_]*of[\s_]*)?(migra|remit)\w*\D*(\d{4})", re.I)
_TITLE = re.compile(r"bilateral\s+(?:estimates\s+of\s+)?(migra|remit)\w*.*?(\d{4})", re.I)
_VERSION = re.compile(r"\((\w+ \d{4}) version\)", re.I)
LABEL_SEARCH_ROWS = 10
KINDS = {"migra": "migration", "remit": "remittances"}


def recognise(peek: Peek) -> list[dict] | None:
    """A bilateral matrix: a sheet named or titled `Bilateral ... Migration/Remittance ... YEAR`
    with area labels across."""
    if peek.kind == "csv":
        return None
    for sheet in peek.sheets:
        top = peek.top(sheet, LABEL_SEARCH_ROWS + 2)
        title = " ".join(cell_text(c) for c in top.iloc[0]) if len(top) else ""
        found = _SHEET.search(sheet) or _TITLE.search(title)
        if not found or _label_row(top) is None:
            continue
        year = found.group(2)
        version = _VERSION.search(title)
        label = f"{year} estimates" + (f", {version.group(1)} version" if version else "")
        return [
            {
                "key": {"matrix": KINDS[found.group(1).lower()]},
                "edition": year,
                "order": year,
                "vintage": f"World Bank/KNOMAD bilateral {KINDS[found.group(1).lower()]} "
                f"matrix, {label}",
                "options": {"sheet": sheet, "year": year},
            }
        ]
    return None


def _label_row(table: pd.DataFrame) -> int | None:
    """The first row (0-based) with area labels across: ten or more text cells after column A."""
    for r in range(min(LABEL_SEARCH_ROWS, len(table))):
        cells = [c for c in table.iloc[r, 1:] if isinstance(c, str) and c.strip()]
        if len(cells) >= 10:
            return r
    return None


def read_matrix(path: Path, sheet: str, year: str | None = None) -> RawRead:
    """Read a matrix sheet into long cells: row label, column label, value (and its year)."""
    try:
        table = read_sheet(path, sheet, header=None)
    except FileLayoutError as err:
        raise FileLayoutError(path, f"expected sheet {sheet!r}: {err}") from err
    label_row = _label_row(table)
    if label_row is None:
        raise FileLayoutError(
            path, f"sheet {sheet!r}: no row of area labels across in the first rows", column="B"
        )
    columns = table.iloc[label_row]
    if year is None:
        found = _SHEET.search(sheet) or _TITLE.search(" ".join(map(cell_text, table.iloc[0])))
        year = found.group(2) if found else None
    result = RawRead(frame=pd.DataFrame())
    records = []
    labels = [None if pd.isna(c) else c for c in columns.tolist()]  # plain lists: ~50,000 cells
    wanted = [(col, labels[col], str(labels[col]).strip()) for col in range(1, len(labels))]
    wanted = [w for w in wanted if w[1] is not None]
    for offset, row in enumerate(table.iloc[label_row + 1 :].to_numpy(object).tolist()):
        label = row[0]
        if pd.isna(label):
            break  # a blank row ends the matrix; notes follow
        source_row = label_row + offset + 2
        row_label = str(label).strip()
        for col, column_label, stripped in wanted:
            value, problem = parse_number(row[col])
            if problem:
                result.reject(
                    source_row,
                    {
                        "row_label": str(label),
                        "column_label": str(column_label),
                        "value": str(row[col]),
                    },
                    [f"column {column_label!r}: {problem}"],
                )
                continue
            records.append(
                {
                    "source_row": source_row,
                    "row_label": row_label,
                    "column_label": stripped,
                    "value": value,
                    "year": year,
                }
            )
    result.frame = pd.DataFrame.from_records(
        records, columns=["source_row", "row_label", "column_label", "value", "year"]
    )
    return result


def _codes(labels: pd.Series, role: str) -> pd.Series:
    """Labels -> codes. A total is `_T` as counterpart and `WLD` as reference area."""
    mapping = {label: code_from_world_bank_label(label) for label in labels.unique()}

    def pick(label: str) -> str:
        code, kind = mapping[label]
        return "WLD" if kind == "total" and role == "ref_area" else code

    return labels.map(pick)


def _matrix(raw: pd.DataFrame, series: str, ref: str, counterpart: str, unit: str, **constants):
    frame = pd.DataFrame(
        {
            "series": series,
            "ref_area": _codes(raw[ref], "ref_area"),
            "counterpart_area": _codes(raw[counterpart], "counterpart_area"),
            "time_period": raw["year"].astype(str),
            "obs_value": raw["value"],
            "unit_measure": unit,
            "source_row": raw["source_row"],
        }
    )
    return observations(frame, obs_status="E", **constants)


def harmonise_migration(raw: pd.DataFrame) -> pd.DataFrame:
    """Origin down, destination across: ref_area = origin, counterpart_area = destination."""
    return _matrix(
        raw, "WB_MIG_STOCK_BILAT", "row_label", "column_label", "PS", basis="foreign_born"
    )


def harmonise_remittances(raw: pd.DataFrame) -> pd.DataFrame:
    """Sending down, receiving across: ref_area = receiving, counterpart_area = sending."""
    return _matrix(raw, "WB_REM_BILAT", "column_label", "row_label", "USD", unit_mult=6)
