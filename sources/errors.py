"""The errors a reader or a spec raises, in a module of their own: the command line catches them
without importing pandas or pydantic."""

from __future__ import annotations

from typing import Any


class FileLayoutError(ValueError):
    """The file does not have the layout its publisher releases (header moved, sheet missing...)."""

    def __init__(self, path: Any, message: str, row: int | None = None, column: str | None = None):
        where = ", ".join(
            part
            for part in (
                f"row {row}" if row is not None else "",
                f"column {column!r}" if column is not None else "",
            )
            if part
        )
        super().__init__(f"{path}: {where + ': ' if where else ''}{message}")
        self.path, self.row, self.column, self.detail = path, row, column, message

    def at(self, path: Any) -> FileLayoutError:
        """The same error, naming `path` (the file as sent, not its staged copy)."""
        return FileLayoutError(path, self.detail, self.row, self.column)


class SpecError(ValueError):
    """A spec file is malformed; the message lists every problem with its place."""
