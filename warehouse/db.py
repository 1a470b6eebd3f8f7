"""Opening the DuckDB warehouse. DuckDB allows one writing process per file: a second refresh
waits for the first, then fails with a message that says so, and never half-writes."""

from __future__ import annotations

import fcntl
import os
import re
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb

from warehouse.errors import WarehouseBusyError
from warehouse.schema import ensure_schema

__all__ = ["WarehouseBusyError", "connect", "refresh_lock"]


#: What DuckDB may hold in memory before it spills to disk (beside the warehouse file): a
#: refresh of the bundled profiles stays under 1 GB; a census of tens of millions of persons
#: runs faster with more (EMP_DUCKDB_MEMORY=8GB).
DEFAULT_MEMORY_LIMIT = "400MB"


def duckdb_config() -> dict:
    return {"memory_limit": os.environ.get("EMP_DUCKDB_MEMORY", "").strip() or DEFAULT_MEMORY_LIMIT}


@contextmanager
def connect(
    database: Path | str, wait_seconds: float = 0.0, read_only: bool = False
) -> Iterator[duckdb.DuckDBPyConnection]:
    """Open the warehouse (creating its schema), waiting up to `wait_seconds` for another writer."""
    path = Path(database)
    if not read_only:
        path.parent.mkdir(parents=True, exist_ok=True)
    deadline = time.monotonic() + wait_seconds
    while True:
        try:
            con = duckdb.connect(str(path), read_only=read_only, config=duckdb_config())
            break
        except duckdb.IOException as err:
            if "lock" not in str(err).lower():
                raise
            if time.monotonic() >= deadline:
                holder = re.search(r"PID (\d+)", str(err))
                raise WarehouseBusyError(
                    f"The warehouse {path} is in use by another refresh"
                    f"{f' (process {holder.group(1)})' if holder else ''}; waited "
                    f"{wait_seconds:.0f} s. Let it finish, or raise EMP_LOCK_WAIT to wait longer."
                ) from None
            time.sleep(0.5)
    try:
        if not read_only:
            ensure_schema(con)
        yield con
    finally:
        con.close()


@contextmanager
def transaction(con: duckdb.DuckDBPyConnection) -> Iterator[duckdb.DuckDBPyConnection]:
    """All or nothing: commit on success, roll back on any error."""
    con.execute("BEGIN TRANSACTION")
    try:
        yield con
    except BaseException:
        con.execute("ROLLBACK")
        raise
    con.execute("COMMIT")


@contextmanager
def refresh_lock(database: Path | str, wait_seconds: float) -> Iterator[None]:
    """One refresh at a time per warehouse: wait up to `wait_seconds` for a running one, then
    fail with a message naming it."""
    lock_path = Path(f"{database}.refresh.lock")
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with open(lock_path, "a+") as fh:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    fh.seek(0)
                    holder = fh.read().strip() or "unknown process"
                    raise WarehouseBusyError(
                        f"Another refresh is running on {database} ({holder}); waited "
                        f"{wait_seconds:.0f} s. Let it finish, or raise EMP_LOCK_WAIT to wait "
                        "longer."
                    ) from None
                time.sleep(0.5)
        fh.seek(0)
        fh.truncate()
        fh.write(f"process {os.getpid()}, started {time.strftime('%Y-%m-%d %H:%M:%S')}")
        fh.flush()
        try:
            yield
        finally:
            fh.seek(0)
            fh.truncate()
            fcntl.flock(fh, fcntl.LOCK_UN)
