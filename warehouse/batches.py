"""Loading one file as one batch: whole or not at all, recorded with its SHA-256, idempotent."""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pandas as pd

from sources.expectations import CheckOutcome, verdict
from sources.intake import StagedFile, staged_copy
from sources.observations import FileLayoutError, RawRead
from warehouse.db import transaction
from warehouse.fingerprints import file_sha256  # noqa: F401 - where loaders look for it
from warehouse.validation import store_outcomes


@dataclass(frozen=True)
class BatchReport:
    """What happened to one file: loaded, or unchanged because the same bytes were loaded before."""

    batch_id: str
    source_id: str
    file_name: str
    sha256: str
    size_bytes: int
    status: str  # "loaded" or "unchanged"
    rows_read: int
    rows_loaded: int
    rows_quarantined: int
    vintage: str | None
    validation: str | None = None  # passed, warned, failed (held back from core)
    outcomes: tuple = ()
    notes: tuple = ()  # what the reader left out or added up on purpose

    def as_dict(self) -> dict:
        data = asdict(self)
        data["failed_checks"] = [o for o in data.pop("outcomes") if not o["success"]]
        return data


def batch_id_for(source_id: str, sha256: str, identity: str | None = None) -> str:
    """Same source and same bytes, same batch; `identity` adds what the file name says when
    the name carries the reference period (the same table sent for two years is two batches)."""
    return f"{source_id}-{sha256[:16]}" + (f"-{identity}" if identity else "")


def existing_batch(con: duckdb.DuckDBPyConnection, batch_id: str) -> dict | None:
    found = con.execute("SELECT * FROM meta.batches WHERE batch_id = ?", [batch_id]).df()
    return None if found.empty else found.iloc[0].to_dict()


def load_batch(
    con: duckdb.DuckDBPyConnection,
    source_id: str,
    path: Path,
    read: callable,
    vintage: str | None = None,
    spec_version: int | None = None,
    identity: str | None = None,
    validate: Callable[[pd.DataFrame], list[CheckOutcome]] | None = None,
    staged: StagedFile | None = None,
) -> BatchReport:
    """Read `path` with `read` and load it into `raw.<source_id>` as one batch.

    The same bytes loaded again change nothing. Rows the reader rejected go to meta.quarantine
    with their row number, raw record and reasons, in the same transaction as the good rows.
    `validate` runs the batch's expectation suite on the rows read; its results are stored in
    the same transaction, and a batch that fails an error rule is marked `failed` and kept out
    of core.

    The file is hashed and read from one copy of its bytes (`staged`, or a copy made here), so
    the SHA-256 recorded always describes the rows loaded.
    """
    if staged is None:
        with staged_copy(Path(path)) as copy:
            return load_batch(
                con, source_id, path, read, vintage, spec_version, identity, validate, copy
            )
    sha256, size = staged.sha256, staged.size
    batch_id = batch_id_for(source_id, sha256, identity)
    seen = existing_batch(con, batch_id)
    if seen is not None:
        return BatchReport(
            batch_id,
            source_id,
            path.name,
            sha256,
            size,
            "unchanged",
            int(seen["rows_read"]),
            int(seen["rows_loaded"]),
            int(seen["rows_quarantined"]),
            seen["vintage"],
            seen.get("validation"),
        )
    try:
        result: RawRead = read(staged.path)
    except FileLayoutError as err:
        raise err.at(path) from None
    frame = result.frame.assign(batch_id=batch_id)
    # Rows of the file, not cells: a wide row read into several long records counts once.
    loaded_rows = set(frame["source_row"]) if len(frame) else set()
    rejected_rows = {r["source_row"] for r in result.rejected}
    rows_read, rows_loaded = len(loaded_rows | rejected_rows), len(loaded_rows - rejected_rows)
    outcomes = validate(result.frame) if validate else []
    status = verdict(outcomes) if validate else None
    vintage = result.vintage or vintage
    table = f"raw.{source_id}"
    with transaction(con):
        con.register("incoming", frame)
        con.execute(f"CREATE TABLE IF NOT EXISTS {table} AS SELECT * FROM incoming LIMIT 0")
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
        con.unregister("incoming")
        if result.rejected:
            rejected = pd.DataFrame(
                {
                    "batch_id": batch_id,
                    "source_id": source_id,
                    "source_row": [r["source_row"] for r in result.rejected],
                    "raw_record": [
                        json.dumps(r["raw_record"], default=str) for r in result.rejected
                    ],
                    "reasons": [r["reasons"] for r in result.rejected],
                }
            )
            con.register("rejected", rejected)
            con.execute("INSERT INTO meta.quarantine BY NAME SELECT * FROM rejected")
            con.unregister("rejected")
        con.execute(
            "INSERT INTO meta.batches (batch_id, source_id, file_name, file_path, sha256, "
            "size_bytes, vintage, loaded_at, rows_read, rows_loaded, rows_quarantined, raw_table, "
            "spec_version, validation, notes) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                batch_id,
                source_id,
                path.name,
                str(path),
                sha256,
                size,
                vintage,
                datetime.now(UTC).replace(tzinfo=None),
                rows_read,
                rows_loaded,
                len(rejected_rows),
                table,
                spec_version,
                status,
                [*staged.notes, *result.notes],
            ],
        )
        store_outcomes(con, "batch", outcomes, source_id, batch_id)
    return BatchReport(
        batch_id,
        source_id,
        path.name,
        sha256,
        size,
        "loaded",
        rows_read,
        rows_loaded,
        len(rejected_rows),
        vintage,
        status,
        tuple(outcomes),
        (*staged.notes, *result.notes),
    )


def current_batches(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The latest loaded batch of every source: the ones core is built from."""
    return con.execute(
        """
        SELECT * FROM meta.batches WHERE coalesce(validation, '') <> 'failed'
        QUALIFY row_number() OVER (PARTITION BY source_id ORDER BY loaded_at DESC) = 1
        ORDER BY source_id
        """
    ).df()


def batches_of(
    con: duckdb.DuckDBPyConnection, source_id: str, spec_version: int | None = None
) -> list[str]:
    """Every batch of a source that passed validation, oldest first; with `spec_version`, only
    those read under that version of the source's spec."""
    version = "" if spec_version is None else "AND coalesce(spec_version, 1) = ? "
    return [
        row[0]
        for row in con.execute(
            "SELECT batch_id FROM meta.batches WHERE source_id = ? "
            f"AND coalesce(validation, '') <> 'failed' {version}ORDER BY loaded_at, batch_id",
            [source_id] + ([] if spec_version is None else [spec_version]),
        ).fetchall()
    ]


def older_version_batches(
    con: duckdb.DuckDBPyConnection, source_id: str, spec_version: int
) -> list[tuple[str, str, int]]:
    """(batch id, file name, version) of the batches read under another version of the spec
    whose bytes were not read again under this one."""
    return con.execute(
        """
        SELECT batch_id, file_name, coalesce(spec_version, 1) FROM meta.batches b
        WHERE source_id = $source AND coalesce(spec_version, 1) <> $version
          AND coalesce(validation, '') <> 'failed'
          AND NOT EXISTS (SELECT 1 FROM meta.batches n WHERE n.source_id = b.source_id
                          AND n.sha256 = b.sha256 AND coalesce(n.spec_version, 1) = $version)
        ORDER BY loaded_at, batch_id
        """,
        {"source": source_id, "version": spec_version},
    ).fetchall()
