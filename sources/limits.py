"""What a reader accepts: limits on size, rows, columns, line length and magnitude.

Each limit is a setting (environment variable) with a default that fits every real release seen
so far many times over; a file beyond one is refused with a message naming the limit, before the
reader spends minutes or gigabytes on it.
"""

from __future__ import annotations

import functools
import math
import os
from dataclasses import dataclass


class LimitSettingError(ValueError):
    """A limit setting that is not a positive number."""


@dataclass(frozen=True)
class Limits:
    file_bytes: int  # EMP_MAX_FILE_BYTES: size of a file as sent
    unpacked_bytes: int  # EMP_MAX_UNPACKED_BYTES: a workbook's parts once decompressed
    rows: int  # EMP_MAX_ROWS: rows of a sheet or lines of a CSV
    columns: int  # EMP_MAX_COLUMNS
    line_chars: int  # EMP_MAX_LINE_CHARS: characters on one line (or in one cell)
    abs_value: float  # EMP_MAX_ABS_VALUE: the largest magnitude a number may have


DEFAULTS = {
    "EMP_MAX_FILE_BYTES": 512 * 1024**2,
    "EMP_MAX_UNPACKED_BYTES": 256 * 1024**2,
    "EMP_MAX_ROWS": 500_000,
    "EMP_MAX_COLUMNS": 2_000,
    "EMP_MAX_LINE_CHARS": 1_000_000,
    "EMP_MAX_ABS_VALUE": 1e15,
}


def _read(name: str) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return DEFAULTS[name]
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value <= 0:
        raise LimitSettingError(
            f"{name}={raw!r} is not a positive number (default {DEFAULTS[name]:,g})"
        )
    return value


def limits() -> Limits:
    """The limits in force (the environment is read on each call; the parsing is cached).
    Every reader calls this as it opens a file, which also sets the magnitude limit that
    number_problem applies to each number of that file."""
    global _ABS_LIMIT
    found = _limits_for(tuple(os.environ.get(name) for name in DEFAULTS))
    _ABS_LIMIT = found.abs_value
    return found


@functools.lru_cache(maxsize=8)
def _limits_for(_values: tuple) -> Limits:
    return Limits(
        file_bytes=int(_read("EMP_MAX_FILE_BYTES")),
        unpacked_bytes=int(_read("EMP_MAX_UNPACKED_BYTES")),
        rows=int(_read("EMP_MAX_ROWS")),
        columns=int(_read("EMP_MAX_COLUMNS")),
        line_chars=int(_read("EMP_MAX_LINE_CHARS")),
        abs_value=_read("EMP_MAX_ABS_VALUE"),
    )


_ABS_LIMIT: float = DEFAULTS["EMP_MAX_ABS_VALUE"]


def number_problem(value: float, text: object) -> str | None:
    """Why a parsed number cannot be published: not finite, a negative zero, or beyond the
    magnitude limit; None when it is fine."""
    limit = _ABS_LIMIT
    if -limit <= value <= limit and value != 0:
        return None  # the common case, decided at once (NaN fails every comparison)
    shown = str(text).strip()
    if len(shown) > 40:
        shown = shown[:37] + "..."
    if math.isnan(value):
        return f"{shown!r} is not a number (NaN); leave the cell empty for a missing value"
    if math.isinf(value):
        return f"{shown!r} is infinite or too large to be a number"
    if value == 0:
        if math.copysign(1.0, value) < 0:
            return f"{shown!r} is a negative zero; write 0"
        return None
    return f"{shown!r} is beyond the largest magnitude accepted ({limit:,.0f}; EMP_MAX_ABS_VALUE)"


def checked_number(value: float, text: object) -> tuple[float | None, str | None]:
    """(value, None) when publishable, else (None, why)."""
    problem = number_problem(value, text)
    return (None, problem) if problem else (value, None)


def cell_number(cell: object) -> tuple[float | None, str | None] | None:
    """A cell that already holds a number (Excel, Parquet): checked; None for other cells."""
    if isinstance(cell, bool):
        return None, f"{cell!r} is not a number"
    if isinstance(cell, int | float):
        return checked_number(float(cell) if abs(cell) < 1e308 else math.inf, cell)
    return None
