"""Building the core layer from the current raw batches: harmonised, long observations."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pandas as pd

from sources.geography import areas
from sources.observations import OBSERVATION_COLUMNS, OBSERVATION_KEY, split_countries
from sources.publishers.registry import all_series
from sources.specs import SourceSpec
from sources.submissions import harmonise_submission
from warehouse.batches import batches_of
from warehouse.db import transaction
from warehouse.releases import present_releases


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
    keep_superseded: bool = False,
) -> tuple[int, int]:
    """Replace the core rows of one source by the harmonised rows of its batches.

    `batch_ids` run oldest to newest: where two batches give the same observation (a revised
    file for the same period, a newer edition of a release), the newer one wins; with
    `keep_superseded`, the older values are kept in core.superseded_observations as
    alternatives. Returns (country rows, aggregate rows). Delete-then-insert in one transaction.
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
    superseded = obs.iloc[0:0].assign(superseded_by=pd.Series(dtype=str))
    if len(batch_ids) > 1:
        newest = obs.duplicated(subset=OBSERVATION_KEY, keep="last")
        if keep_superseded:
            winner = obs[~newest].set_index(OBSERVATION_KEY)["batch_id"]
            older = obs[newest]
            superseded = older.assign(
                superseded_by=winner.reindex(
                    pd.MultiIndex.from_frame(older[OBSERVATION_KEY])
                ).to_numpy()
            )
            superseded = split_countries(superseded)[0]
        obs = obs[~newest]
    countries, aggregates = split_countries(obs)
    with transaction(con):
        con.execute("DELETE FROM core.superseded_observations WHERE source_id = ?", [source_id])
        if len(superseded):
            con.register("incoming", superseded[[*OBSERVATION_COLUMNS, "superseded_by"]])
            con.execute("INSERT INTO core.superseded_observations BY NAME SELECT * FROM incoming")
            con.unregister("incoming")
        for table, frame in (
            ("core.observations", countries),
            ("core.aggregate_observations", aggregates),
        ):
            con.execute(f"DELETE FROM {table} WHERE source_id = ?", [source_id])
            con.register("incoming", frame[list(OBSERVATION_COLUMNS)])
            con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
            con.unregister("incoming")
    return len(countries), len(aggregates)


def retire_edition_ids(con: duckdb.DuckDBPyConnection) -> int:
    """Remove from core the rows of source ids that named an edition of a series
    (`un_desa_ims_2019` for `un_desa_ims`), as warehouses built before editions lived side by
    side have them; their batches stay in meta.batches. Returns the rows removed."""
    removed = 0
    for series in all_series():
        pattern = f"^{series.id}_[0-9]{{4}}$"
        for table in (
            "core.observations",
            "core.aggregate_observations",
            "core.superseded_observations",
        ):
            removed += con.execute(
                f"DELETE FROM {table} WHERE regexp_matches(source_id, ?)", [pattern]
            ).fetchone()[0]
    return removed


def rebuild_core(
    con: duckdb.DuckDBPyConnection, specs: dict[str, SourceSpec]
) -> dict[str, dict[str, int]]:
    """Rebuild core from every source: the releases of each publisher series present at the
    last scan (the newest edition preferred for each value, older ones kept as alternatives),
    and every batch of each national spec (newer batches win for the same observation)."""
    counts = {}
    retire_edition_ids(con)
    present = present_releases(con)
    for series in all_series():
        batch_ids = [r["batch_id"] for r in present if r["source_id"] == series.id]
        rows = rebuild_source(con, series.id, batch_ids, series.harmonise, keep_superseded=True)
        if batch_ids:
            counts[series.id] = {"countries": rows[0], "aggregates": rows[1]}
    for spec in specs.values():
        batch_ids = batches_of(con, spec.id)
        if batch_ids:
            rows = rebuild_source(con, spec.id, batch_ids, harmonise_submission(spec))
            counts[spec.id] = {"countries": rows[0], "aggregates": rows[1]}
    return counts
