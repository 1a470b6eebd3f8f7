"""The rows a profile shows, from a snapshot's indicators: national totals, and totals computed
from a reported breakdown where a file gave none (marked as computed, never passed off as
reported)."""

from __future__ import annotations

import pandas as pd

from indicators.census import age_as_total

TOTALS = {"sex": "_T", "age": "_T", "migrant_status": "_T", "breakdown": "_T"}


def totals(frame: pd.DataFrame) -> pd.DataFrame:
    """The rows of totals over sex, age, migrant status and breakdown (preferred source)."""
    mask = pd.Series(True, index=frame.index)
    for column, code in TOTALS.items():
        values = age_as_total(frame[column]) if column == "age" else frame[column]
        mask &= values == code
    if "preferred" in frame:
        mask &= frame["preferred"].fillna(True).astype(bool)
    return frame[mask]


#: Units whose values add up across a breakdown (counts and amounts, not shares or rates).
ADDITIVE_UNITS = {"PS", "USD", "NUMBER"}
#: The breakdowns a total may be computed from, in the order tried.
SUMMED_OVER = ("sex", "age", "breakdown", "counterpart_area")


def computed_totals(frame: pd.DataFrame) -> pd.DataFrame:
    """Totals for series that loaded without an all-totals row (a file by sex only, by
    destination and sex): the sum of one reported cross-classification, where the unit adds
    up. Of several (a series sent by sex in one file and by age in another), the one with the
    fewest breakdowns is summed. The rows are marked `computed` with what was summed, never
    passed off as reported."""
    empty = frame.iloc[0:0].assign(computed=pd.Series(dtype=str))
    rows = frame[frame["preferred"].fillna(True).astype(bool)] if "preferred" in frame else frame
    rows = rows[rows["unit_measure"].isin(ADDITIVE_UNITS) & rows["obs_value"].notna()]
    if rows.empty:
        return empty
    dims = list(SUMMED_OVER) + ["migrant_status"]
    pattern = rows[dims].ne("_T")
    rows = rows.assign(
        pattern=pattern.apply(lambda r: "+".join(d for d in dims if r[d]), axis=1),
        width=pattern.sum(axis=1),
    )
    group = ["indicator_id", "series", "ref_area", "time_period", "unit_measure"]
    reported = set(map(tuple, rows.loc[rows["width"] == 0, group].to_numpy().tolist()))
    candidates = rows[rows["width"] > 0]
    if candidates.empty:
        return empty
    sums = candidates.groupby([*group, "pattern", "width"], as_index=False).agg(
        obs_value=("obs_value", "sum"),
        source_ids=("source_ids", lambda s: sorted({x for ids in s for x in ids})),
        source_vintages=("source_vintages", lambda s: sorted({x for v in s for x in v})),
        batch_ids=("batch_ids", lambda s: sorted({x for ids in s for x in ids})),
    )
    sums = sums.sort_values(["width", "pattern"]).drop_duplicates(group, keep="first")
    sums = sums[[tuple(k) not in reported for k in sums[group].to_numpy().tolist()]]
    if sums.empty:
        return empty
    return (
        sums.drop(columns=["width"])
        .rename(columns={"pattern": "computed"})
        .assign(
            counterpart_area="_T",
            sex="_T",
            age="_T",
            migrant_status="_T",
            breakdown="_T",
            unit_mult=0,
            obs_status="A",
            conf_status="F",
            preferred=True,
        )
    )


def yearly(frame: pd.DataFrame) -> pd.DataFrame:
    """The yearly rows (not quarters or months)."""
    return frame[frame["time_period"].str.fullmatch(r"\d{4}")]
