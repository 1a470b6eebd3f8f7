"""Reading workbooks safely: limits checked before anything is unpacked, sheets read by calamine
(Rust; fast, and no object per cell), the file's real format told from its first bytes.

A workbook whose parts unpack beyond EMP_MAX_UNPACKED_BYTES, or whose sheet declares more rows
or columns than EMP_MAX_ROWS / EMP_MAX_COLUMNS, is refused in milliseconds, with the limit named.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from typing import Any

import pandas as pd

from sources.limits import limits
from sources.observations import FileLayoutError

ZIP_MAGIC = b"PK\x03\x04"
OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"  # Excel 97-2003 (.xls)
_DIMENSION = re.compile(rb'<(?:\w+:)?dimension\s+ref="(?:[A-Z]+\d+:)?([A-Z]+)(\d+)"')
#: A formula, or a cell holding a spreadsheet error (#N/A, #DIV/0!...): both readers give an
#: error cell as an empty one, so such sheets are scanned cell by cell.
_FORMULA = re.compile(rb'<(?:\w+:)?f[\s>/]|\st="e"')


def workbook_kind(path: Path) -> str:
    """'xlsx', 'xls' or 'other', from the file's first bytes (not its name)."""
    with open(path, "rb") as fh:
        head = fh.read(8)
    if head.startswith(ZIP_MAGIC):
        return "xlsx"
    if head == OLE_MAGIC:
        return "xls"
    return "other"


def check_workbook(path: Path, expected: str | None = None) -> str:
    """Refuse a workbook that is not what its name says, or that is beyond the limits, before
    it is read; return its real kind."""
    kind = workbook_kind(path)
    expected = expected or path.suffix.lower().lstrip(".")
    names = {"xlsx": "an Excel .xlsx workbook", "xls": "an Excel 97-2003 .xls workbook"}
    if kind == "other":
        raise FileLayoutError(
            path, f"not a readable {expected.upper()} workbook (truncated, damaged, or not Excel)"
        )
    if expected in names and kind != expected:
        raise FileLayoutError(
            path,
            f"the file is {names[kind]} but is named or declared as .{expected}; save it again "
            f"as .{expected} (or declare format: {kind})",
        )
    if kind == "xlsx":
        _check_zip(path)
    return kind


def _check_zip(path: Path) -> None:
    limit = limits()
    try:
        with zipfile.ZipFile(path) as book:
            entries = book.infolist()
            unpacked = sum(e.file_size for e in entries)
            if unpacked > limit.unpacked_bytes:
                raise FileLayoutError(
                    path,
                    f"the workbook unpacks to {unpacked:,} bytes, beyond the limit of "
                    f"{limit.unpacked_bytes:,} (EMP_MAX_UNPACKED_BYTES)",
                )
            for entry in entries:
                if not entry.filename.startswith("xl/worksheets/") or entry.is_dir():
                    continue
                with book.open(entry) as fh:
                    head = fh.read(4096)
                found = _DIMENSION.search(head)
                sheet = entry.filename.rsplit("/", 1)[-1]
                if not found:  # no declared size: count the rows as the XML streams by
                    if entry.file_size > STREAM_COUNT_FROM:
                        _count_rows(path, book, entry, sheet, limit.rows)
                    continue
                from openpyxl.utils import column_index_from_string

                columns, rows = column_index_from_string(found[1].decode()), int(found[2])
                if rows > limit.rows:
                    raise FileLayoutError(
                        path,
                        f"a sheet ({sheet}) declares {rows:,} rows, beyond the limit of "
                        f"{limit.rows:,} (EMP_MAX_ROWS)",
                    )
                if columns > limit.columns:
                    raise FileLayoutError(
                        path,
                        f"a sheet ({sheet}) declares {columns:,} columns, beyond the limit of "
                        f"{limit.columns:,} (EMP_MAX_COLUMNS)",
                    )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError) as err:
        raise FileLayoutError(
            path, f"not a readable XLSX workbook (truncated or damaged?): {err}"
        ) from None


#: Sheets smaller than this unpacked are simply read; larger ones without a declared size have
#: their rows counted first (a streamed pass, about 10 times faster than reading them).
STREAM_COUNT_FROM = 8 * 1024**2
_ROW = re.compile(rb"<(?:\w+:)?row[\s>]")


def _count_rows(
    path: Path, book: zipfile.ZipFile, entry: zipfile.ZipInfo, sheet: str, limit: int
) -> None:
    rows, tail = 0, b""
    with book.open(entry) as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            block = tail + chunk
            rows += len(_ROW.findall(block)) - len(_ROW.findall(tail))
            tail = block[-16:]
            if rows > limit:
                raise FileLayoutError(
                    path,
                    f"a sheet ({sheet}) has more than {limit:,} rows, beyond the limit "
                    "(EMP_MAX_ROWS)",
                )


def read_sheet(path: Path, sheet: Any, **options: Any) -> pd.DataFrame:
    """One sheet (or a list of sheets: a dict) as objects, read by calamine within the limits.
    A missing sheet is a FileLayoutError naming it."""
    check_workbook(path)
    limit = limits()
    options.setdefault("nrows", limit.rows + 1)  # never more than one row past the limit
    try:
        frame = pd.read_excel(path, sheet_name=sheet, dtype=object, engine="calamine", **options)
    except (ValueError, KeyError) as err:
        if "not found" in str(err).lower() or "worksheet" in str(err).lower():
            raise FileLayoutError(path, f"no sheet {sheet!r} ({err})") from None
        raise FileLayoutError(path, f"not a readable workbook: {err}") from None
    except Exception as err:  # calamine's own errors for damaged parts
        raise FileLayoutError(
            path, f"not a readable workbook (truncated or damaged?): {err}"
        ) from None
    for name, table in frame.items() if isinstance(frame, dict) else [(sheet, frame)]:
        if len(table) > limit.rows:
            raise FileLayoutError(
                path,
                f"sheet {name!r} has {len(table):,} rows, beyond the limit of {limit.rows:,} "
                "(EMP_MAX_ROWS)",
            )
        if table.shape[1] > limit.columns:
            raise FileLayoutError(
                path,
                f"sheet {name!r} has {table.shape[1]:,} columns, beyond the limit of "
                f"{limit.columns:,} (EMP_MAX_COLUMNS)",
            )
    return frame


def has_formulas(path: Path) -> bool:
    """Whether any worksheet of an .xlsx holds a formula or an error cell (streamed, never
    loaded whole)."""
    if workbook_kind(path) != "xlsx":
        return False
    with zipfile.ZipFile(path) as book:
        for entry in book.infolist():
            if not entry.filename.startswith("xl/worksheets/"):
                continue
            with book.open(entry) as fh:
                tail = b""
                for chunk in iter(lambda f=fh: f.read(1 << 20), b""):
                    if _FORMULA.search(tail + chunk):
                        return True
                    tail = chunk[-16:]
    return False


def column_letter(index: int) -> str:
    """A column's spreadsheet letter from its 0-based position: 0 -> A, 26 -> AA."""
    from openpyxl.utils import get_column_letter  # openpyxl only where a letter is written

    return get_column_letter(index + 1)
