"""The rows a profile shows, from a snapshot's indicators: national totals (reported, or computed
from a reported breakdown upstream and marked so) and yearly rows."""

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


def yearly(frame: pd.DataFrame) -> pd.DataFrame:
    """The yearly rows (not quarters or months)."""
    return frame[frame["time_period"].str.fullmatch(r"\d{4}")]
