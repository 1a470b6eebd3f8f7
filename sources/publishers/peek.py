"""A first look at a file, enough to tell which publisher's release it is: its real format (from
its first bytes, not its name), its sheet names, the top rows of a sheet, the first lines of a
CSV. Nothing here reads a whole file."""

from __future__ import annotations

import csv
import io
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sources.excel import check_workbook, read_sheet, workbook_kind
from sources.observations import FileLayoutError

TOP_ROWS = 40
CSV_LINES = 60
CSV_PEEK_BYTES = 1 << 20


@dataclass
class Peek:
    path: Path
    kind: str  # xlsx, xls, csv
    sheets: list[str] = field(default_factory=list)
    lines: list[list[str]] = field(default_factory=list)
    _tops: dict[str, pd.DataFrame] = field(default_factory=dict)
    #: the folder the file lies in as it was sent (its release's other files are there), when
    #: `path` is a staged copy
    sent_from: Path | None = None

    @property
    def folder(self) -> Path:
        return self.sent_from or self.path.parent

    def top(self, sheet: str, rows: int = TOP_ROWS) -> pd.DataFrame:
        """The first `rows` rows of `sheet`, no header, Excel row r at index r - 1."""
        if sheet not in self._tops:
            self._tops[sheet] = read_sheet(self.path, sheet, header=None, nrows=rows)
        return self._tops[sheet]


def peek(path: Path) -> Peek:
    """Look at `path`. A FileLayoutError says why it cannot be looked at (damaged workbook,
    binary file that is not a workbook, text in an unknown encoding)."""
    kind = workbook_kind(path)
    if kind in ("xlsx", "xls"):
        check_workbook(path, kind)  # limits checked before anything is unpacked
        return Peek(path, kind, sheets=sheet_names(path, kind))
    with open(path, "rb") as fh:
        head = fh.read(CSV_PEEK_BYTES)
    if b"\x00" in head:
        raise FileLayoutError(path, "a binary file that is neither a CSV nor an Excel workbook")
    text = _decode(path, head)
    if len(head) == CSV_PEEK_BYTES:  # drop the last, possibly cut, line
        text = text.rsplit("\n", 1)[0]
    reader = csv.reader(io.StringIO(text, newline=""))
    lines = []
    for row in reader:
        lines.append([cell.strip() for cell in row])
        if len(lines) >= CSV_LINES:
            break
    return Peek(path, "csv", lines=lines)


def _decode(path: Path, head: bytes) -> str:
    for encoding in ("utf-8-sig", "cp1252"):
        try:
            return head.decode(encoding)
        except UnicodeDecodeError:
            continue
    raise FileLayoutError(path, "text in an unknown encoding (save it as UTF-8)")


def sheet_names(path: Path, kind: str) -> list[str]:
    from python_calamine import CalamineWorkbook

    try:
        return list(CalamineWorkbook.from_path(str(path)).sheet_names)
    except Exception as err:  # calamine's own errors for damaged parts
        raise FileLayoutError(
            path, f"not a readable {kind.upper()} workbook (truncated or damaged?): {err}"
        ) from None


def cell_text(cell: object) -> str:
    """A header cell as text: blanks for empty cells, one space for line breaks."""
    if cell is None or (isinstance(cell, float) and pd.isna(cell)):
        return ""
    if isinstance(cell, float) and cell.is_integer():
        return str(int(cell))
    return " ".join(str(cell).split())
