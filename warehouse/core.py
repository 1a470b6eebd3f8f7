"""Building the core layer from the current raw batches: harmonised, long observations."""

from __future__ import annotations

from collections.abc import Callable

import duckdb
import pandas as pd

from sources.geography import areas
from sources.i18n import N_
from sources.observations import OBSERVATION_COLUMNS, OBSERVATION_KEY, split_countries
from sources.publishers.registry import all_series
from sources.specs import SourceSpec
from sources.submissions import harmonise_submission
from warehouse.batches import batches_of, older_version_batches
from warehouse.db import transaction
from warehouse.held_back import replace_held_back
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
    held: list[tuple[str, str, str]] | None = None,
) -> tuple[int, int]:
    """Replace the core rows of one source by the harmonised rows of its batches.

    `batch_ids` run oldest to newest: where two batches give the same observation (a revised
    file for the same period, a newer edition of a release), the newer one wins; with
    `keep_superseded`, the older values are kept in core.superseded_observations as
    alternatives. A batch that gives one key twice is left out, with its reason added to
    `held`. Returns (country rows, aggregate rows). Delete-then-insert in one transaction.
    """
    parts = []
    for batch_id in batch_ids:
        raw = con.execute(f"SELECT * FROM raw.{source_id} WHERE batch_id = ?", [batch_id]).df()
        rows = harmonise(raw).assign(source_id=source_id, batch_id=batch_id)
        reason = repeated_keys(rows)
        if reason:  # loaded before every input was checked for it: held back here
            if held is not None:
                held.append((source_id, batch_id, f"{_file_of(con, batch_id)}: {reason}"))
            continue
        parts.append(rows)
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


def repeated_keys(rows: pd.DataFrame) -> str | None:
    """Why a batch's harmonised rows cannot go to core: a key given more than once (the rows
    named), else None."""
    repeated = rows[rows.duplicated(subset=OBSERVATION_KEY, keep=False)]
    if repeated.empty:
        return None
    first = repeated.iloc[0]
    same = repeated[(repeated[OBSERVATION_KEY] == first[OBSERVATION_KEY]).all(axis=1)]
    lines = ", ".join(str(r) for r in same["source_row"].head(5))
    keys = len(repeated.drop_duplicates(subset=OBSERVATION_KEY))
    return N_(
        "{keys} key(s) given more than once, e.g. series {series}, {area}, {period} on rows {rows}"
    ).format(
        keys=keys,
        series=first["series"],
        area=first["ref_area"],
        period=first["time_period"],
        rows=lines,
    )


def _file_of(con: duckdb.DuckDBPyConnection, batch_id: str) -> str:
    found = con.execute("SELECT file_name FROM meta.batches WHERE batch_id = ?", [batch_id])
    row = found.fetchone()
    return row[0] if row else batch_id


def hold_back_unit_conflicts(
    con: duckdb.DuckDBPyConnection, national: set[str]
) -> list[tuple[str, str, str]]:
    """A series given in two units (two specs declaring one series code in USD and in persons)
    cannot be compared or added up: the ministry sources involved are taken out of core (the
    publishers' kept), or every source involved where no ministry source is. Returns
    (source id, series, reason) for each source held back."""
    clashes = con.execute(
        """
        SELECT series, list(DISTINCT source_id ORDER BY source_id),
               list(DISTINCT unit_measure || ' x10^' || unit_mult ORDER BY 1)
        FROM (SELECT series, source_id, unit_measure, unit_mult FROM core.observations
              UNION ALL
              SELECT series, source_id, unit_measure, unit_mult FROM core.aggregate_observations)
        GROUP BY series HAVING count(DISTINCT (unit_measure, unit_mult)) > 1
        """
    ).fetchall()
    held = []
    for series, sources, units in clashes:
        involved = [s for s in sources if s in national] or sources
        for source in involved:
            for table in ("core.observations", "core.aggregate_observations"):
                con.execute(
                    f"DELETE FROM {table} WHERE series = ? AND source_id = ?", [series, source]
                )
            others = ", ".join(s for s in sources if s != source) or source
            held.append(
                (
                    source,
                    series,
                    N_(
                        "series {series} is given in several units ({units}) by {source} and "
                        "{others}; the values of {source} are held back: give each unit a "
                        "series code of its own"
                    ).format(series=series, units=", ".join(units), source=source, others=others),
                )
            )
    return held


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
    held: list[tuple[str, str, str]] = []
    retire_edition_ids(con)
    present = present_releases(con)
    for series in all_series():
        batch_ids = [r["batch_id"] for r in present if r["source_id"] == series.id]
        rows = rebuild_source(
            con, series.id, batch_ids, series.harmonise, keep_superseded=True, held=held
        )
        if batch_ids:
            counts[series.id] = {"countries": rows[0], "aggregates": rows[1]}
    for spec in specs.values():
        batch_ids = batches_of(con, spec.id, spec.version)
        for batch_id, name, version in older_version_batches(con, spec.id, spec.version):
            held.append(
                (
                    spec.id,
                    batch_id,
                    N_(
                        "{name} was read under version {old} of {spec}, which is now version "
                        "{new}, and its file is no longer where EMP can read it again: send it "
                        "again to read it under the new version"
                    ).format(name=name, old=version, spec=spec.id, new=spec.version),
                )
            )
        rows = rebuild_source(con, spec.id, batch_ids, harmonise_submission(spec), held=held)
        if batch_ids:
            counts[spec.id] = {"countries": rows[0], "aggregates": rows[1]}
    national = set(specs)
    units = hold_back_unit_conflicts(con, national)
    countries = {s.id: s.country for s in specs.values()}
    replace_held_back(
        con,
        "core",
        [(source, countries.get(source), item, reason) for source, item, reason in held + units],
    )
    return counts
