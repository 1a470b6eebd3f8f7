"""Checks on the census indicator cells, whichever engine computed them: the asset reports them
(DuckDB) or the Spark job sends them back through Dagster Pipes."""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

#: What identifies one published census cell.
CELL_ID = [
    "series",
    "country",
    "census_round",
    "ref_area",
    "counterpart_area",
    "sex",
    "age",
    "migrant_status",
    "breakdown",
]
CHECK_DESCRIPTIONS = {
    "census_no_small_cell_published": "no published census value rests on fewer records than "
    "the disclosure threshold (zero excepted), and no confidential cell shows its record counts",
    "census_one_row_per_cell": "every census cell has exactly one row",
}


@dataclass(frozen=True)
class CellCheck:
    name: str
    passed: bool
    failing: int
    description: str


def census_cell_checks(cells: pd.DataFrame, threshold: int) -> list[CellCheck]:
    """The census cell checks over `cells` (indicators.census.census_indicators)."""
    shown = cells[cells["obs_value"].notna()]
    records = shown["n_unweighted"].astype("Float64")
    small = (records > 0) & (records < threshold)
    rates = shown["unit_measure"] != "PS"
    small |= rates & (shown["base_count"].astype("Float64") < threshold)
    hidden = cells[cells["suppressed"]]
    leaked = hidden["n_unweighted"].notna() | hidden["base_count"].notna()
    duplicated = cells.duplicated(CELL_ID, keep=False)
    found = {
        "census_no_small_cell_published": int(small.fillna(False).sum() + leaked.sum()),
        "census_one_row_per_cell": int(duplicated.sum()),
    }
    return [
        CellCheck(name, failing == 0, failing, CHECK_DESCRIPTIONS[name])
        for name, failing in found.items()
    ]
