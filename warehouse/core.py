"""Building the core layer from the current raw batches: harmonised, long observations."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pandas as pd

from sources.geography import areas
from sources.observations import OBSERVATION_COLUMNS, split_countries
from warehouse.db import transaction


def refresh_areas(con: duckdb.DuckDBPyConnection) -> int:
    """Rewrite core.areas from the reference tables (ISO 3166-1 plus declared extras)."""
    frame = areas()
    with transaction(con):
        con.execute("DELETE FROM core.areas")
        con.register("incoming", frame)
        con.execute("INSERT INTO core.areas BY NAME SELECT * FROM incoming")
        con.unregister("incoming")
    return len(frame)


def rebuild_source(
    con: duckdb.DuckDBPyConnection,
    source_id: str,
    batch_id: str,
    harmonise: Callable[[pd.DataFrame], pd.DataFrame],
) -> tuple[int, int]:
    """Replace the core rows of one source by the harmonised rows of its current batch.

    Returns (country rows, aggregate rows). Delete-then-insert in one transaction.
    """
    raw = con.execute(f"SELECT * FROM raw.{source_id} WHERE batch_id = ?", [batch_id]).df()
    obs = harmonise(raw).assign(source_id=source_id, batch_id=batch_id)
    countries, aggregates = split_countries(obs)
    with transaction(con):
        for table, frame in (
            ("core.observations", countries),
            ("core.aggregate_observations", aggregates),
        ):
            con.execute(f"DELETE FROM {table} WHERE source_id = ?", [source_id])
            con.register("incoming", frame[list(OBSERVATION_COLUMNS)])
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
            con.unregister("incoming")
    return len(countries), len(aggregates)
