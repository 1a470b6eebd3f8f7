"""The core observation contract (DESIGN section 4) and helpers shared by the readers."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd

from sources.errors import FileLayoutError as FileLayoutError  # where readers import it from
from sources.geography import country_codes
from sources.limits import cell_number, checked_number

TOTAL = "_T"

#: Columns of core.observations, in order. `_T` marks a total (SDMX convention). `breakdown` is
#: the SDMX composite breakdown for what the named dimensions do not cover (economic sector of a
#: placement, purpose of a residence permit), with codes declared in the source spec.
OBSERVATION_COLUMNS: dict[str, str] = {
    "series": "VARCHAR",
    "ref_area": "VARCHAR",
    "counterpart_area": "VARCHAR",
    "time_period": "VARCHAR",
    "sex": "VARCHAR",
    "age": "VARCHAR",
    "migrant_status": "VARCHAR",
    "education": "VARCHAR",
    "breakdown": "VARCHAR",
    "obs_value": "DOUBLE",
    "unit_measure": "VARCHAR",
    "unit_mult": "INTEGER",
    "obs_status": "VARCHAR",
    "basis": "VARCHAR",
    "type_of_data": "VARCHAR",
    "source_id": "VARCHAR",
    "batch_id": "VARCHAR",
    "source_row": "BIGINT",
}

#: What identifies one observation of a source.
OBSERVATION_KEY = [
    "series",
    "ref_area",
    "counterpart_area",
    "time_period",
    "sex",
    "age",
    "migrant_status",
    "education",
    "breakdown",
]

DEFAULTS: dict[str, Any] = {
    "counterpart_area": TOTAL,
    "sex": TOTAL,
    "age": TOTAL,
    "migrant_status": TOTAL,
    "education": TOTAL,
    "breakdown": TOTAL,
    "unit_mult": 0,
    "obs_status": "A",
    "basis": None,
    "type_of_data": None,
    "source_row": None,
}

#: what publishers write in a cell with no value: `..` not available, `-` nil or not
#: applicable, `~` not applicable or negligible (UN DESA), `x` suppressed or not available
MISSING_MARKERS = frozenset({"", "..", "-", "…", "~", "x", "X", "n/a", "NA"})


@dataclass
class RawRead:
    """What a reader got out of one file: good rows, rejected rows, and the publisher's metadata."""

    frame: pd.DataFrame
    rejected: list[dict[str, Any]] = field(default_factory=list)
    vintage: str | None = None
    notes: list[str] = field(default_factory=list)  # what was skipped on purpose, and why

    def reject(self, source_row: int, record: dict[str, Any], reasons: list[str]) -> None:
        self.rejected.append({"source_row": source_row, "raw_record": record, "reasons": reasons})


def parse_values(
    result: RawRead,
    table: pd.DataFrame,
    column: str,
    record: Callable[[pd.Series], dict],
    where: Callable[[pd.Series], str],
) -> tuple[pd.Series, pd.Series]:
    """The numbers in `column` of `table` (float64, missing where the cell is empty): a cell
    that is not a number is rejected into `result` with its row, its `record` and `where` it
    was (for example "column '2019'"). Returns the numbers and the mask of rows kept."""
    if not len(table):
        return pd.Series(dtype="float64"), pd.Series(dtype=bool)
    parsed = table[column].map(parse_number)
    problems = parsed.str[1]
    for index in problems[problems.notna()].index:
        rec = table.loc[index]
        result.reject(int(rec["source_row"]), record(rec), [f"{where(rec)}: {problems[index]}"])
    return pd.Series(parsed.str[0], dtype="float64", index=table.index), problems.isna()


def note_rows_without_value(result: RawRead, frame: pd.DataFrame, keep: pd.Series) -> None:
    """Note the file's rows whose every value is missing (and none rejected): counted in the
    batch's notes, not dropped unsaid. `frame` holds `source_row` and `value` per cell."""
    if not len(frame):
        return
    empty = frame["value"].isna().groupby(frame["source_row"]).all()
    empty &= keep.groupby(frame["source_row"]).all()
    if empty.any():
        result.notes.append(no_value_note(sorted(int(r) for r in empty[empty].index)))


def no_value_note(rows: list[int]) -> str:
    """The batch note for the rows of a file whose every value is blank or marked missing."""
    from sources.i18n import N_

    shown = ", ".join(str(n) for n in rows[:10])
    shown += f" and {len(rows) - 10} more" if len(rows) > 10 else ""
    return N_(
        "{count} row(s) with no value (every value blank or marked missing): rows {rows}"
    ).format(count=len(rows), rows=shown)


def parse_number(value: Any) -> tuple[float | None, str | None]:
    """Read a published cell as a number: (value, None), (None, None) if marked missing,
    or (None, reason) if the cell holds something that is not a number."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return None, None
    numeric = cell_number(value)
    if numeric is not None:
        return numeric
    text = str(value).strip()
    if text in MISSING_MARKERS:
        return None, None
    try:
        if "_" in text:  # Python would read 1_000 as 1000; a publisher never means that
            raise ValueError(text)
        number = float(text.replace(",", ""))
    except ValueError:
        return None, f"{text!r} is not a number"
    return checked_number(number, text)


def observations(frame: pd.DataFrame, **constants: Any) -> pd.DataFrame:
    """Complete a frame to the observation contract: fill defaults and constants, order columns."""
    out = frame.copy()
    for column, value in constants.items():
        out[column] = value
    for column, value in DEFAULTS.items():
        if column not in out:
            out[column] = value
    for column in ("source_id", "batch_id"):  # stamped by the warehouse when it loads them
        if column not in out:
            out[column] = None
    missing = [c for c in OBSERVATION_COLUMNS if c not in out]
    if missing:
        raise ValueError(f"observations lack columns {missing}")
    out = out[list(OBSERVATION_COLUMNS)]
    return out[out["obs_value"].notna()].reset_index(drop=True)


def split_countries(obs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Split observations into (countries and their sub-national areas, aggregates) by
    ref_area: world regions, income groups and world totals never mix with countries."""
    from sources.geography import admin_codes

    is_country = obs["ref_area"].isin(country_codes() | admin_codes())
    return obs[is_country].reset_index(drop=True), obs[~is_country].reset_index(drop=True)
