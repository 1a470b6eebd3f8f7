"""Publishing immutable profile snapshots: snapshots/<ISO3>/<version>/ with Parquet + manifest.

A snapshot is written to a hidden temporary folder and renamed into place, so a reader sees a
whole snapshot or none. Versions are UTC timestamps; an existing version is never overwritten.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import shutil
import subprocess
from datetime import UTC, datetime
from importlib.metadata import version as package_version
from pathlib import Path
from typing import Any

import duckdb
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from indicators.catalogue import catalogue
from publish.exports import write_exports
from publish.snapshot_index import (
    INDICATORS_FILE,
    MANIFEST_FILE,
    damaged_editions,
    list_snapshots,
)
from sources.atomic import sweep_leftovers, temporary_name
from sources.geography import profile_areas
from sources.i18n import N_
from warehouse.baselines import country_tables
from warehouse.lineage import LINEAGE_FILE, VALUE_KEY_SQL, lineage_observations
from warehouse.schema import INDICATOR_KEY

#: where two sources give one value key: both values, the difference, the tolerance
OVERLAPS_FILE = "overlaps.parquet"
EXPORTS_DIR = "exports"  # open-sdg/ and sdmx/, see publish/exports.py
#: Baseline tables frozen with the indicators that produced them.
BASELINE_FILES = {
    "baselines": "baselines.parquet",
    "panel": "baseline_panel.parquet",
    "reconciliation": "baseline_reconciliation.parquet",
    "pretrends": "baseline_pretrends.parquet",
    "requests": "baseline_requests.parquet",
}


class SnapshotExistsError(FileExistsError):
    """A snapshot version is never overwritten."""


def code_version() -> dict[str, str | None]:
    """The package version and, when run from a git checkout, the commit."""
    commit = None
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=Path(__file__).parent,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
    return {"package": package_version("emp"), "git_commit": commit}


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def refresh_version(now: datetime) -> str:
    """The version id one refresh gives every snapshot it publishes: its start, UTC."""
    return now.strftime("%Y%m%dT%H%M%SZ")


def content_digest(frames: dict[str, pd.DataFrame]) -> str:
    """SHA-256 of what a snapshot publishes, independent of row order, of its version id and of
    the last bits of floating-point sums (values compared to 12 significant digits): two
    refreshes that publish the same values give the same digest."""
    digest = hashlib.sha256()
    for name in sorted(frames):
        frame = frames[name].drop(columns=["snapshot_version"], errors="ignore").copy()
        for column in frame.columns:  # sums of doubles differ in the last bits between runs
            if pd.api.types.is_float_dtype(frame[column]):
                frame[column] = frame[column].map(
                    lambda v: "" if v != v else f"{0.0 if abs(v) < 1e-9 else v:.12g}"
                )
            elif frame[column].dtype == object:  # lists: as sets, whatever order they came in
                frame[column] = frame[column].map(_canonical)
        digest.update(name.encode())
        digest.update("\x1f".join(map(str, frame.columns)).encode())
        rows = sorted(
            "\x1f".join(map(str, row)) for row in frame.astype(object).itertuples(index=False)
        )
        for row in rows:
            digest.update(row.encode("utf-8", "surrogatepass"))
            digest.update(b"\x1e")
    return digest.hexdigest()


def _canonical(value: object) -> object:
    if isinstance(value, (list, tuple)) or hasattr(value, "tolist") and not isinstance(value, str):
        items = value.tolist() if hasattr(value, "tolist") else value
        if isinstance(items, list):
            return "\x1d".join(sorted(map(str, items)))
    return value


def latest_manifest(country_dir: Path) -> tuple[dict | None, str | None]:
    """The manifest of the latest edition that verifies, and why a later one was refused (a
    tampered edition is never taken as what the country last published)."""
    from publish.snapshot_check import TamperedSnapshotError, read_manifest

    found = list_snapshots(country_dir.parent, country_dir.name) if country_dir.exists() else []
    refused = None
    damaged = damaged_editions(country_dir)
    if damaged and (not found or damaged[-1].name > Path(found[-1]["path"]).name):
        where = N_("snapshot {name}").format(name=f"{country_dir.name}/{damaged[-1].name}")
        refused = N_("{where}: its manifest cannot be read; this edition is refused").format(
            where=where
        )
    for snap in reversed(found):
        try:
            return read_manifest(snap["path"]), refused
        except TamperedSnapshotError as err:
            refused = refused or str(err)
    return None, refused


def new_version(country_dir: Path, now: datetime, version: str | None = None) -> str:
    """A version not yet used in `country_dir`: `version` (one refresh's id) or the timestamp
    of `now`, with -2, -3... if taken."""
    base = version or now.strftime("%Y%m%dT%H%M%SZ")
    candidate, n = base, 1
    while (country_dir / candidate).exists():
        n += 1
        candidate = f"{base}-{n}"
    return candidate


def inputs_of(con: duckdb.DuckDBPyConnection, batch_ids: list[str]) -> list[dict[str, Any]]:
    frame = con.execute(
        """
        SELECT b.source_id, b.batch_id, b.file_name, b.sha256, b.size_bytes, b.vintage,
               any_value(r.edition) AS edition,
               strftime(b.loaded_at, '%Y-%m-%dT%H:%M:%SZ') AS loaded_at
        FROM meta.batches b LEFT JOIN meta.releases r USING (batch_id)
        WHERE list_contains(?, b.batch_id)
        GROUP BY ALL ORDER BY b.source_id, edition
        """,
        [batch_ids],
    ).df()
    return frame.to_dict(orient="records")


def rests_on(ids: object, sources: frozenset[str] | set[str]) -> bool:
    """Whether a list of source ids (a list, an array, or missing) names one of `sources`."""
    if ids is None or isinstance(ids, (str, float)) or ids is pd.NA:
        return False
    return any(str(i) in sources for i in ids)


def changes_since(previous: dict | None, country_dir: Path, staging: Path) -> dict:
    """What this version changes from the previous one (as `emp diff` counts it)."""
    if not previous:
        return {"previous": None}
    from publish.diff import diff_snapshots

    result = diff_snapshots(country_dir / previous["version"], staging)
    return {
        "previous": previous["version"],
        **result["counts"],
        "by_indicator": result["by_indicator"],
    }


def publish_snapshot(
    con: duckdb.DuckDBPyConnection,
    country: str,
    snapshots_dir: Path,
    validation: dict[str, Any],
    now: datetime | None = None,
    disclosure: dict[str, Any] | None = None,
    synthetic: frozenset[str] = frozenset(),
    version: str | None = None,
    skip_unchanged: bool = False,
) -> Path:
    """Write the country's indicators and manifest as a new snapshot version; return its path.
    Every value, baseline row and input resting on a source in `synthetic` (generated samples)
    is marked `synthetic`, so none can pass for real data. `version` is the refresh's id,
    shared by every country it publishes. With `skip_unchanged`, nothing is written when the
    content equals the latest snapshot's, and that snapshot's path is returned."""
    now = now or datetime.now(UTC)
    country_dir = Path(snapshots_dir) / country
    country_dir.mkdir(parents=True, exist_ok=True)
    sweep_leftovers(country_dir, recursive=False)  # what a killed publication left
    version = new_version(country_dir, now, version)
    final = country_dir / version
    previous, refused = latest_manifest(country_dir)
    staging = temporary_name(final)
    staging.mkdir()
    try:
        order = ", ".join(INDICATOR_KEY)
        areas = profile_areas(country)  # the country and its regions and provinces
        table = con.sql(
            f"SELECT *, {VALUE_KEY_SQL} AS value_key, "
            "list_has_any(source_ids, $synthetic::VARCHAR[]) AS synthetic FROM marts.indicators "
            f"WHERE list_contains($areas, ref_area) ORDER BY {order}",
            params={"areas": areas, "synthetic": sorted(synthetic)},
        ).to_arrow_table()
        pq.write_table(table, staging / INDICATORS_FILE, compression="zstd")
        refs = [r for rows in table.column("source_rows").to_pylist() if rows for r in rows]
        lineage = lineage_observations(con, refs)
        pq.write_table(
            pa.Table.from_pandas(lineage, preserve_index=False),
            staging / LINEAGE_FILE,
            compression="zstd",
        )
        overlaps = con.sql(
            "SELECT * FROM marts.overlaps WHERE list_contains($areas, ref_area) ORDER BY ALL",
            params={"areas": areas},
        ).to_arrow_table()
        pq.write_table(overlaps, staging / OVERLAPS_FILE, compression="zstd")
        files = [INDICATORS_FILE, OVERLAPS_FILE, LINEAGE_FILE]
        published = {
            "indicators": table.to_pandas(),
            "overlaps": overlaps.to_pandas(),
            # Part D (gaps, failed checks, held-back files) is content too
            "validation": pd.DataFrame(
                [{"json": json.dumps(validation, sort_keys=True, default=str)}]
            ),
        }
        for key, frame in country_tables(con, country).items():
            published[key] = frame
            name = BASELINE_FILES[key]
            frame = frame.assign(snapshot_version=version)
            if "source_ids" in frame:
                frame["synthetic"] = frame["source_ids"].map(lambda ids: rests_on(ids, synthetic))
            pq.write_table(
                pa.Table.from_pandas(frame, preserve_index=False),
                staging / name,
                compression="zstd",
            )
            files.append(name)
        # unchanged content: decided before the exports are written, which only repeat it
        digest = content_digest(published)
        if (
            skip_unchanged
            and previous
            and not refused  # a tampered latest edition is replaced, whatever its digest says
            and previous.get("content_sha256") == digest
        ):
            shutil.rmtree(staging, ignore_errors=True)
            return country_dir / previous["version"]
        batch_ids = sorted({b for ids in table.column("batch_ids").to_pylist() for b in ids})
        counts = con.execute(
            "SELECT indicator_id, count(*) FROM marts.indicators "
            "WHERE list_contains(?, ref_area) GROUP BY 1 ORDER BY 1",
            [areas],
        ).fetchall()
        exported = write_exports(
            published["indicators"],
            catalogue(),
            country,
            {"version": version, "created_at": now.strftime("%Y-%m-%dT%H:%M:%SZ")},
            staging / EXPORTS_DIR,
        )
        files += [str(p.relative_to(staging)) for p in exported]
        manifest = {
            "profile": country,
            "version": version,
            "created_at": now.strftime("%Y-%m-%dT%H:%M:%SZ"),
            "code_version": code_version(),
            "inputs": [
                {**found, "synthetic": found["source_id"] in synthetic}
                for found in inputs_of(con, batch_ids)
            ],
            "synthetic_sources": sorted(synthetic),
            "row_counts": {
                **{
                    name: pq.read_metadata(staging / name).num_rows
                    for name in files
                    if name.endswith(".parquet")
                },
                "by_indicator": dict(counts),
            },
            "files": [
                {
                    "name": name,
                    "sha256": _sha256(staging / name),
                    "bytes": (staging / name).stat().st_size,
                }
                for name in files
            ],
            "validation": validation,
            "disclosure_control": disclosure,
            "content": "aggregate indicators and baselines only; no microdata or personal data",
            "content_sha256": digest,
            "changes": {
                **changes_since(previous, country_dir, staging),
                **({"refused_edition": refused} if refused else {}),
            },
        }
        (staging / MANIFEST_FILE).write_text(
            json.dumps(manifest, indent=2, default=str), encoding="utf-8"
        )
        for path in staging.rglob("*"):
            if path.is_file():
                path.chmod(0o444)
        if final.exists():
            raise SnapshotExistsError(f"snapshot {final} exists; versions are never overwritten")
        os.rename(staging, final)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    return final
