"""Validation results in the warehouse: what was checked, when, and what failed."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import duckdb
import pandas as pd

from sources.expectations import CheckOutcome


def store_outcomes(
    con: duckdb.DuckDBPyConnection,
    scope: str,
    outcomes: list[CheckOutcome],
    source_id: str | None = None,
    batch_id: str | None = None,
) -> None:
    """Record outcomes (within the caller's transaction, if any)."""
    if not outcomes:
        return
    now = datetime.now(UTC).replace(tzinfo=None)
    frame = pd.DataFrame(
        {
            "checked_at": now,
            "scope": scope,
            "source_id": source_id,
            "batch_id": batch_id,
            "check_name": [o.name for o in outcomes],
            "severity": [o.severity for o in outcomes],
            "success": [o.success for o in outcomes],
            "description": [o.description for o in outcomes],
            "failure_count": [o.failure_count for o in outcomes],
            "failures": [json.dumps(o.failures, default=str, ensure_ascii=False) for o in outcomes],
        }
    )
    con.register("outcomes", frame)
    con.execute("INSERT INTO meta.validation_results BY NAME SELECT * FROM outcomes")
    con.unregister("outcomes")


def latest_results(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The last result of every check: per batch for batch checks, per name otherwise."""
    return con.execute(
        """
        SELECT * FROM meta.validation_results
        QUALIFY checked_at = max(checked_at) OVER (PARTITION BY scope, coalesce(batch_id, ''))
        ORDER BY scope, source_id, batch_id, check_name
        """
    ).df()
