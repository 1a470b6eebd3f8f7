"""Building the core layer from the current raw batches: harmonised, long observations."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pandas as pd

from sources.geography import areas
from sources.observations import OBSERVATION_COLUMNS, OBSERVATION_KEY, split_countries
from sources.public_files import PUBLIC_FILES
from sources.specs import SourceSpec
from sources.submissions import harmonise_submission
from warehouse.batches import batches_of, current_batches
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
    batch_ids: list[str],
    harmonise: Callable[[pd.DataFrame], pd.DataFrame],
) -> tuple[int, int]:
    """Replace the core rows of one source by the harmonised rows of its batches.

    `batch_ids` run oldest to newest: where two batches give the same observation (a revised
    file for the same period), the newer one wins. Returns (country rows, aggregate rows).
    Delete-then-insert in one transaction.
    """
    parts = []
    for batch_id in batch_ids:
        raw = con.execute(f"SELECT * FROM raw.{source_id} WHERE batch_id = ?", [batch_id]).df()
        parts.append(harmonise(raw).assign(source_id=source_id, batch_id=batch_id))
    obs = (
        pd.concat(parts, ignore_index=True)
        if parts
        else pd.DataFrame(columns=list(OBSERVATION_COLUMNS))
    )
    if len(batch_ids) > 1:
        obs = obs.drop_duplicates(subset=OBSERVATION_KEY, keep="last")
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


def rebuild_core(
    con: duckdb.DuckDBPyConnection, specs: dict[str, SourceSpec]
) -> dict[str, dict[str, int]]:
    """Rebuild core from every source: the current batch of each public file, and every batch
    of each national spec (newer batches win for the same observation)."""
    counts = {}
    current = current_batches(con).set_index("source_id")["batch_id"]
    for public_file in PUBLIC_FILES:
        if public_file.source_id not in current:
            continue
        rows = rebuild_source(
            con, public_file.source_id, [current[public_file.source_id]], public_file.harmoniser
        )
        counts[public_file.source_id] = {"countries": rows[0], "aggregates": rows[1]}
    for spec in specs.values():
        batch_ids = batches_of(con, spec.id)
        if batch_ids:
            rows = rebuild_source(con, spec.id, batch_ids, harmonise_submission(spec))
            counts[spec.id] = {"countries": rows[0], "aggregates": rows[1]}
    return counts
