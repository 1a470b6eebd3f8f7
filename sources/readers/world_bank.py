"""World Bank / KNOMAD bilateral matrices 2017 (migrant stocks and remittances).

Layout as released: a title on row 1, column labels on row 2, then one row per country, then
`Other North`/`Other South`/`World` (or `WORLD`) rows, a blank row and notes. Areas are named, not
coded: names go through the declared crosswalk `sources/reference/world_bank_labels.csv`.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from sources.excel import read_sheet
from sources.geography import code_from_world_bank_label
from sources.observations import FileLayoutError, RawRead, observations, parse_number

LABEL_ROW = 2  # 1-based Excel row holding the column labels


def read_matrix(path: Path, sheet: str) -> RawRead:
    """Read a matrix sheet into long cells: row label, column label, value."""
    try:
        table = read_sheet(path, sheet, header=None)
    except FileLayoutError as err:
        raise FileLayoutError(path, f"expected sheet {sheet!r}: {err}") from err
    columns = table.iloc[LABEL_ROW - 1]
    if pd.isna(columns.iloc[1]):
        raise FileLayoutError(path, "expected area labels across", row=LABEL_ROW, column="B")
    result = RawRead(frame=pd.DataFrame())
    records = []
    for offset in range(LABEL_ROW, len(table)):
        row = table.iloc[offset]
        label = row.iloc[0]
        if pd.isna(label):
            break  # a blank row ends the matrix; notes follow
        source_row = offset + 1
        for col in range(1, len(columns)):
            if pd.isna(columns.iloc[col]):
                continue
            value, problem = parse_number(row.iloc[col])
            if problem:
                result.reject(
                    source_row,
                    {
                        "row_label": str(label),
                        "column_label": str(columns.iloc[col]),
                        "value": str(row.iloc[col]),
                    },
                    [f"column {columns.iloc[col]!r}: {problem}"],
                )
                continue
            records.append(
                {
                    "source_row": source_row,
                    "row_label": str(label).strip(),
                    "column_label": str(columns.iloc[col]).strip(),
                    "value": value,
                }
            )
    result.frame = pd.DataFrame.from_records(records)
    return result


def read_migration(path: Path) -> RawRead:
    return read_matrix(path, "Bilateral_Migration_2017")


def read_remittances(path: Path) -> RawRead:
    return read_matrix(path, "Bilateral_Remittances_2017")


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
            "time_period": "2017",
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
