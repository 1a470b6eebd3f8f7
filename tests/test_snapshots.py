"""Snapshots are immutable: written aside, renamed into place, never overwritten."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import UTC, datetime

import duckdb
import pytest

from publish.snapshots import list_snapshots, publish_snapshot

NOW = datetime(2026, 1, 15, 12, 0, 0, tzinfo=UTC)


@pytest.fixture()
def warehouse_copy(built, tmp_path):
    """A writable copy of the session's warehouse."""
    copy = tmp_path / "emp.duckdb"
    copy.write_bytes(built.database.read_bytes())
    with duckdb.connect(str(copy)) as con:
        yield con


def test_same_second_gets_a_new_version_and_the_old_stays(warehouse_copy, tmp_path):
    out = tmp_path / "snapshots"
    first = publish_snapshot(warehouse_copy, "MAR", out, {"passed": True}, now=NOW)
    original = (first / "indicators.parquet").read_bytes()
    second = publish_snapshot(warehouse_copy, "MAR", out, {"passed": True}, now=NOW)
    assert first.name == "20260115T120000Z" and second.name == "20260115T120000Z-2"
    assert (first / "indicators.parquet").read_bytes() == original
    assert not os.access(first / "indicators.parquet", os.W_OK) or os.geteuid() == 0
    assert oct((first / "manifest.json").stat().st_mode)[-3:] == "444"
    assert [s["version"] for s in list_snapshots(out, "MAR")] == [first.name, second.name]


def test_a_failed_publication_leaves_no_folder(warehouse_copy, tmp_path):
    out = tmp_path / "snapshots"
    warehouse_copy.execute("DROP TABLE marts.indicators")
    with pytest.raises(duckdb.CatalogException):
        publish_snapshot(warehouse_copy, "MAR", out, {}, now=NOW)
    assert list((out / "MAR").iterdir()) == []


def test_snapshot_holds_aggregates_only(built):
    snapshot = sorted((built.snapshots / "MDA").iterdir())[-1]
    with duckdb.connect() as con:
        columns = {
            r[0]
            for r in con.execute(
                f"DESCRIBE SELECT * FROM '{snapshot / 'indicators.parquet'}'"
            ).fetchall()
        }
    assert not columns & {"person_id", "household_id", "name", "source_row"}
    manifest = json.loads((snapshot / "manifest.json").read_text())
    assert "aggregate" in manifest["content"]


def test_emp_snapshots_json_lists_country_version_path(built):
    env = {**os.environ, "EMP_SNAPSHOTS": str(built.snapshots)}
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "snapshots", "--json"],
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    listed = json.loads(done.stdout)
    assert {s["country"] for s in listed} == {"GEO", "MAR", "MDA", "PHL"}
    for snap in listed:
        assert snap["path"].endswith(f"{snap['country']}/{snap['version']}")
