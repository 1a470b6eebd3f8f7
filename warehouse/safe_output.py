"""What every published file must respect: finite numbers, no negative zero, and no text cell a
spreadsheet would run as a formula."""

from __future__ import annotations

import numpy as np
import pandas as pd

#: A spreadsheet runs a cell starting with one of these as a formula (OWASP: CSV injection).
FORMULA_LEADS = ("=", "+", "-", "@", "\t", "\r")


class NonFiniteValueError(ValueError):
    """A value to publish is infinite or not a number: it never reaches a published file."""


def published_values(values: pd.Series, where: str, decimals: int = 6) -> pd.Series:
    """Values rounded for publication; -0.0 becomes 0.0; an infinite value stops the export."""
    numbers = pd.to_numeric(values, errors="coerce").astype("float64")
    infinite = np.isinf(numbers.to_numpy())
    if infinite.any():
        raise NonFiniteValueError(
            f"{where}: {int(infinite.sum())} value(s) are infinite; nothing is published"
        )
    return numbers.round(decimals) + 0.0  # adding 0.0 turns -0.0 into 0.0


def neutralise_formulas(frame: pd.DataFrame) -> pd.DataFrame:
    """Text cells that start like a formula get a leading apostrophe, as spreadsheets expect;
    numbers are left alone."""
    out = frame.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype.kind in "biufcM":
            continue
        try:
            leads = values.str.startswith(FORMULA_LEADS, na=False).astype(bool)
        except AttributeError:  # not a text column (lists, dates): cell by cell
            leads = values.map(lambda v: isinstance(v, str) and v.startswith(FORMULA_LEADS))
            leads = leads.astype(bool)
        if leads.any():
            out[column] = values.where(~leads, "'" + values[leads].astype(str))
    return out
