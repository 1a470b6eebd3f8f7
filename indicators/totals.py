"""Totals computed from a reported breakdown, published as values of their own.

A ministry may send a series by sex only, or by destination and sex, with no all-totals row. The
profile, the exports and the baselines need the total, so it is computed once here, marked
`computed` (the dimensions summed) and given the most cautionary flag of its parts; it is never
passed off as reported. No total is computed where one is reported, even as confidential or
missing: a suppressed total rebuilt from its published parts would undo disclosure control, and
a sum over parts of which one is hidden would be wrong."""

from __future__ import annotations

import duckdb
import pandas as pd

from indicators.census import age_as_total
from sources.i18n import N_

#: Units whose values add up across a breakdown (counts and amounts, not shares or rates).
ADDITIVE_UNITS = {"PS", "USD", "NUMBER"}
#: The breakdowns a total may be computed from, in the order tried.
SUMMED_OVER = ("sex", "age", "breakdown", "counterpart_area", "migrant_status")
#: Of the parts' flags, the one a total carries (most cautionary first).
STATUS_ORDER = ("U", "P", "E", "D", "B")
GROUP = ["indicator_id", "series", "ref_area", "time_period", "unit_measure"]
COMMENT = N_("computed: the sum of the reported values by {what}")
DIMENSION_WORDS = {
    "sex": N_("sex"),
    "age": N_("age"),
    "breakdown": N_("category"),
    "counterpart_area": N_("partner country"),
    "migrant_status": N_("migrant status"),
}


def _status(statuses: pd.Series) -> str:
    present = set(statuses.dropna())
    return next((s for s in STATUS_ORDER if s in present), "A")


def _union(lists: pd.Series) -> list[str]:
    """The sorted union of list cells (a missing cell adds nothing)."""
    found: set[str] = set()
    for items in lists:
        if isinstance(items, str) or items is None:
            continue
        try:
            found.update(items)
        except TypeError:  # pd.NA, NaN
            continue
    return sorted(found)


def computed_totals(frame: pd.DataFrame) -> pd.DataFrame:
    """Totals for the series of `frame` (indicator rows) that have no all-totals row: the sum
    of one reported cross-classification whose cells all have a value, where the unit adds up.
    Of several (a series sent by sex in one file and by age in another), the one with the
    fewest breakdowns is summed. Rows carry `computed` ("sex", "counterpart_area+sex")."""
    empty = frame.iloc[0:0].assign(computed=pd.Series(dtype=object))
    every = frame[frame["unit_measure"].isin(ADDITIVE_UNITS)]
    rows = every[every["preferred"].fillna(True).astype(bool)] if "preferred" in every else every
    if rows.empty:
        return empty
    age = age_as_total(rows["age"])
    pattern = rows[list(SUMMED_OVER)].assign(age=age).ne("_T")
    rows = rows.assign(
        pattern=pattern.apply(lambda r: "+".join(d for d in SUMMED_OVER if r[d]), axis=1),
        width=pattern.sum(axis=1),
    )
    # a total reported in any form (a value, confidential, missing, another source's value
    # kept beside the preferred one) is never computed again
    totals_mask = (
        every[list(SUMMED_OVER)].assign(age=age_as_total(every["age"])).eq("_T").all(axis=1)
    )
    reported = set(map(tuple, every.loc[totals_mask, GROUP].to_numpy().tolist()))
    candidates = rows[rows["width"] > 0]
    if candidates.empty:
        return empty
    sums = candidates.groupby([*GROUP, "pattern", "width"], as_index=False, dropna=False).agg(
        obs_value=("obs_value", lambda s: s.sum() if s.notna().all() else float("nan")),
        obs_status=("obs_status", _status),
        hidden=("conf_status", lambda s: bool((s == "C").any())),
        source_ids=("source_ids", _union),
        source_vintages=("source_vintages", _union),
        batch_ids=("batch_ids", _union),
        source_rows=("source_rows", _union),
        basis=("basis", "first"),
        type_of_data=("type_of_data", "first"),
    )
    sums = sums[sums["obs_value"].notna() & ~sums["hidden"]]
    sums = sums.sort_values(["width", "pattern"]).drop_duplicates(GROUP, keep="first")
    sums = sums[[tuple(k) not in reported for k in sums[GROUP].to_numpy().tolist()]]
    if sums.empty:
        return empty
    words = sums["pattern"].map(
        lambda p: " and ".join(DIMENSION_WORDS.get(d, d) for d in p.split("+"))
    )
    return (
        sums.drop(columns=["width", "hidden"])
        .rename(columns={"pattern": "computed"})
        .assign(
            counterpart_area="_T",
            sex="_T",
            age="_T",
            migrant_status="_T",
            breakdown="_T",
            unit_mult=0,
            conf_status="F",
            preferred=True,
            comment=[COMMENT.format(what=w) for w in words],
        )
    )


def add_computed_totals(con: duckdb.DuckDBPyConnection) -> int:
    """Insert into marts.indicators the totals computed from reported breakdowns; returns how
    many."""
    frame = con.execute(
        "SELECT * FROM marts.indicators WHERE computed IS NULL "
        "AND unit_measure IN (SELECT unnest($units::VARCHAR[]))",
        {"units": sorted(ADDITIVE_UNITS)},
    ).df()
    totals = computed_totals(frame)
    if totals.empty:
        return 0
    con.register("computed_totals", totals)
    try:
        con.execute("INSERT INTO marts.indicators BY NAME SELECT * FROM computed_totals")
    finally:
        con.unregister("computed_totals")
    return len(totals)
