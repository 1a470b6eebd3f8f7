"""Disclosure control of the census counts: the additive relations among them, primary and
secondary suppression over those relations (indicators/disclosure.py), and what it cost."""

from __future__ import annotations

import numpy as np
import pandas as pd

from indicators.disclosure import NONE, PRIMARY, SECONDARY, Relations, primary, protect

TOTAL = "_T"
#: What identifies one count: measure, migrant status, area, partner, sex, age, breakdown.
CELL_KEY = [
    "country",
    "census_round",
    "measure",
    "migrant_status",
    "ref_area",
    "counterpart_area",
    "sex",
    "age",
    "breakdown",
]
#: Counts that add up across measures: active persons are the employed plus the unemployed.
MEASURE_SUMS = {"active": ("employed", "unemployed")}


def cell_relations(cells: pd.DataFrame) -> Relations:
    """The additive relations among measure cells: totals over sex, age group, migrant
    status, destination and year of departure; province -> region -> nation; the nation's
    5-year in-movers = the regions' out-movers. Sums across measures (active = employed +
    unemployed) are protected by giving those measures one pattern (`protect_cells`)."""
    frame = cells.reset_index(drop=True)
    frame["cell"] = np.arange(len(frame))
    links = []  # (part, total) pairs, one frame per kind of relation
    for dimension in ("sex", "age", "migrant_status", "counterpart_area", "breakdown"):
        others = [k for k in CELL_KEY if k != dimension]
        is_total = frame[dimension] == TOTAL
        totals = frame.loc[is_total, [*others, "cell"]].rename(columns={"cell": "total"})
        parts = frame.loc[~is_total, [*others, "cell"]].rename(columns={"cell": "part"})
        links.append(parts.merge(totals, on=others)[["part", "total"]])
    others = [k for k in CELL_KEY if k != "ref_area"]
    children = frame.loc[frame["parent"].notna(), [*others, "parent", "cell"]]
    parents = frame[[*others, "ref_area", "cell"]].rename(
        columns={"ref_area": "parent", "cell": "total"}
    )
    links.append(
        children.rename(columns={"cell": "part"}).merge(parents, on=[*others, "parent"])[
            ["part", "total"]
        ]
    )
    by = ["country", "census_round", "sex", "age"]
    out = frame.loc[frame["measure"] == "outmover", [*by, "cell"]]
    national_in = frame[
        (frame["measure"] == "inmover")
        & (frame["ref_area"] == frame["country"])
        & (frame["migrant_status"] == TOTAL)
        & (frame["counterpart_area"] == TOTAL)
        & (frame["breakdown"] == TOTAL)
    ][[*by, "cell"]]
    links.append(
        out.rename(columns={"cell": "part"}).merge(
            national_in.rename(columns={"cell": "total"}), on=by
        )[["part", "total"]]
    )
    return Relations.from_links(
        len(frame),
        [(link["part"].to_numpy(), link["total"].to_numpy()) for link in links],
    )


def protect_cells(
    cells: pd.DataFrame,
    threshold: int,
    secondary: bool = True,
    carried: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """The measure cells with `suppression` (0 none, 1 primary, 2 secondary) after primary
    suppression at `threshold` records and secondary suppression over every relation.

    `carried` (CELL_KEY rows) are the cells an earlier edition published as confidential: they
    stay suppressed (as secondary, where not primary now) and are protected with the others,
    so that no combination of this edition with an earlier one gives them away, whatever the
    threshold or the data became.

    Measures that add up (active = employed + unemployed) are protected each on its own, then
    all take the union of their patterns: the union of safe patterns over one table structure
    is safe, and with the same cells hidden in all three, the sum across them gives an
    attacker one more equation per cell with three unknowns, which determines none of them."""
    # one order whatever order the census pass returned the rows in: the choice of secondary
    # cells breaks ties by position, and a refresh must give the same pattern every time
    cells = cells.sort_values(CELL_KEY, kind="stable").reset_index(drop=True)
    first = primary(cells["n"].to_numpy(), threshold)
    earlier = _carried_mask(cells, carried)
    if not secondary:  # primary suppression alone: what an attack would break (benchmarks)
        return cells.assign(suppression=np.where(first, PRIMARY, NONE).astype(np.int8))
    # weighted sums differ in their last bits with the order DuckDB adds them up in; rounded,
    # equal cells stay equal and the choice among them stays the same from run to run
    cost = np.round(cells["w"].to_numpy(dtype=float), 3)
    status = protect(cell_relations(cells), first | earlier, cost)
    status[earlier & ~first] = SECONDARY  # hidden to keep an earlier edition's cells hidden
    cells = cells.assign(suppression=status)
    others = [k for k in CELL_KEY if k != "measure"]
    for total, parts in MEASURE_SUMS.items():
        group = cells["measure"].isin((total, *parts))
        hidden = cells[group].groupby(others)["suppression"].transform("max")
        raised = group & (cells["suppression"] == NONE)
        raised.loc[group] &= hidden > NONE
        cells.loc[raised, "suppression"] = SECONDARY
    return cells


def _carried_mask(cells: pd.DataFrame, carried: pd.DataFrame | None) -> np.ndarray:
    """Which of `cells` an earlier edition published as confidential."""
    if carried is None or carried.empty:
        return np.zeros(len(cells), dtype=bool)
    keys = carried[CELL_KEY].astype(str).drop_duplicates().assign(_earlier=True)
    found = cells[CELL_KEY].astype(str).merge(keys, on=CELL_KEY, how="left")
    return found["_earlier"].fillna(False).to_numpy(dtype=bool)


def suppressed_cells(cells: pd.DataFrame) -> pd.DataFrame:
    """The CELL_KEY of every suppressed measure cell: what the next edition must keep hidden."""
    return cells.loc[cells["suppression"] > NONE, CELL_KEY].astype(str).reset_index(drop=True)


def disclosure_summary(cells: pd.DataFrame) -> dict:
    """What disclosure control hid, over the measure cells: cells suppressed by each pass and
    the information lost (share of cells, share of the persons they count, each level of area
    weighed against itself)."""
    counted = cells[cells["w"] > 0]
    primary_cells = counted["suppression"] == PRIMARY
    secondary_cells = counted["suppression"] == SECONDARY
    persons = counted["w"].sum()
    return {
        "cells": int(len(counted)),
        "primary": int(primary_cells.sum()),
        "secondary": int(secondary_cells.sum()),
        "secondary_share_of_cells": float(secondary_cells.mean()) if len(counted) else 0.0,
        "secondary_share_of_persons": float(counted.loc[secondary_cells, "w"].sum() / persons)
        if persons
        else 0.0,
        "suppressed_share_of_persons": float(
            counted.loc[primary_cells | secondary_cells, "w"].sum() / persons
        )
        if persons
        else 0.0,
    }
