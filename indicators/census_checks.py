"""Checks on the census indicator cells, whichever engine computed them: the asset reports them
(DuckDB) or the Spark job sends them back through Dagster Pipes."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
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


def cell_differences(left: pd.DataFrame, right: pd.DataFrame, rtol: float = 1e-9) -> list[str]:
    """How two computations of the census cells differ (empty: they agree): the same keys,
    identical record counts, suppression and status, values within `rtol` relative."""
    if len(left) != len(right):
        return [f"{len(left):,} cells against {len(right):,}"]
    left = left.sort_values(CELL_ID).reset_index(drop=True)
    right = right.sort_values(CELL_ID).reset_index(drop=True)
    keys = left[CELL_ID].astype(str).to_numpy() != right[CELL_ID].astype(str).to_numpy()
    if keys.any():
        return [f"{int(keys.any(axis=1).sum()):,} cells with other keys"]
    found = []
    for column in ["suppression", "suppressed", "obs_status", "conf_status", "comment"]:
        differ = left[column].astype(str).fillna("") != right[column].astype(str).fillna("")
        if differ.any():
            found.append(f"{column}: {int(differ.sum()):,} cells differ")
    for column in ["n_unweighted", "base_count"]:
        if not left[column].astype("Float64").equals(right[column].astype("Float64")):
            found.append(f"{column}: record counts differ")
    for column in ["obs_value", "weight_sum"]:
        a, b = left[column].to_numpy(float), right[column].to_numpy(float)
        if not np.array_equal(np.isnan(a), np.isnan(b)):
            found.append(f"{column}: empty in one and not the other")
            continue
        shown = ~np.isnan(a)
        off = ~np.isclose(a[shown], b[shown], rtol=rtol, atol=0)
        if off.any():
            found.append(f"{column}: {int(off.sum()):,} values differ by more than {rtol:g}")
    return found
