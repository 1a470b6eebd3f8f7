"""Two refreshes at once: one waits for the other, or fails with a clear message."""

from __future__ import annotations

import csv
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from sources.census.codebook import codebooks
from sources.data_home import PROVENANCE_FILE, national_statistics_dir
from sources.inbox import files_in
from sources.samples import NATIONAL_DATA_DIR
from tests.conftest import PROFILE_COUNTRIES, refresh
from warehouse.db import WarehouseBusyError, connect, refresh_lock

EMP = [sys.executable, "-m", "pipelines.cli"]


def _hold(code: str) -> subprocess.Popen:
    """Run `code` in another process; return once it prints 'ready'."""
    proc = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    assert proc.stdout.readline().strip() == "ready"
    return proc


def test_second_writer_gets_a_clear_message(tmp_path):
    db = tmp_path / "emp.duckdb"
    holder = _hold(
        f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('ready', flush=True); "
        "time.sleep(30)"
    )
    try:
        busy = pytest.raises(WarehouseBusyError, match=r"in use by another refresh \(process \d+\)")
        with busy, connect(db, wait_seconds=1):
            pass
    finally:
        holder.kill()
        holder.wait()
    with connect(db, wait_seconds=1) as con:  # free again once the other process is gone
        assert con.execute("SELECT 1").fetchone() == (1,)


def test_refresh_lock_names_the_running_refresh(tmp_path):
    db = tmp_path / "emp.duckdb"
    holder = _hold(
        "import time; from warehouse.db import refresh_lock\n"
        f"with refresh_lock({str(db)!r}, 0):\n"
        "    print('ready', flush=True); time.sleep(30)"
    )
    try:
        started = time.monotonic()
        busy = pytest.raises(WarehouseBusyError, match=rf"process {holder.pid}, started")
        with busy, refresh_lock(db, wait_seconds=1):
            pass
        assert time.monotonic() - started >= 1  # it waited before giving up
    finally:
        holder.kill()
        holder.wait()
    with refresh_lock(db, wait_seconds=1):
        pass


def test_dagster_run_fails_cleanly_while_warehouse_is_held(tmp_path):
    db = tmp_path / "emp.duckdb"
    with connect(db):
        pass
    holder = _hold(
        f"import duckdb, time; c = duckdb.connect({str(db)!r}); print('ready', flush=True); "
        "time.sleep(60)"
    )
    try:
        result = refresh_with_no_raise(tmp_path)
    finally:
        holder.kill()
        holder.wait()
    assert not result.success
    failure = next(e for e in result.all_events if e.is_step_failure)
    assert "in use by another refresh" in failure.event_specific_data.error.to_string()
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM meta.batches").fetchone() == (0,)


def refresh_with_no_raise(root: Path):
    import dagster as dg

    from pipelines.assets import ALL_ASSETS
    from tests.conftest import warehouse_resource

    resource = warehouse_resource(root, lock_wait_seconds=1)
    return dg.materialize(
        ALL_ASSETS,
        selection=["raw/publisher_releases"],
        resources={"warehouse": resource},
        raise_on_error=False,
    )


def _env(root: Path, wait: int) -> dict[str, str]:
    return {**os.environ, "EMP_HOME": str(root), "EMP_LOCK_WAIT": str(wait)}


@pytest.mark.slow
def test_two_cli_refreshes_at_once(tmp_path):
    """Started together: the second waits for the first, finds nothing changed and says so;
    nothing is corrupted."""
    procs = [
        subprocess.Popen(
            [*EMP, "refresh", "--json"],
            env=_env(tmp_path, 300),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = [p.communicate(timeout=600) for p in procs]
    summaries = [json.loads(out) for out, _ in outputs]
    # published everywhere: 0, or 4 when something (a release nothing reads) is held back
    expected = [4 if s["held_back"] else 0 for s in summaries]
    assert [p.returncode for p in procs] == expected, outputs
    assert all(s["success"] for s in summaries)
    # the second refresh saw what the first published: a country it left unchanged has one
    # version, and its summary says so
    for country in PROFILE_COUNTRIES:
        versions = len(list((tmp_path / "snapshots" / country).iterdir()))
        said = [country in s["unchanged"] for s in summaries]
        assert (versions, sum(said)) in ((1, 1), (2, 0)), (country, versions, said)
    with duckdb.connect(str(tmp_path / "emp.duckdb"), read_only=True) as con:
        batches = con.execute("SELECT count(*) FROM meta.batches").fetchone()[0]
    # one batch per release with a series (UNHCR's footnotes and UIS's indicator list are
    # companions: they describe a release and load nothing)
    with open(PROVENANCE_FILE, encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["path"].startswith("public/")]
    releases = sum(1 for r in rows if r["series"])
    offices = len(list((national_statistics_dir() / "PHL_CFO").glob("*.csv")))  # real files
    assert batches == releases + len(files_in(NATIONAL_DATA_DIR)) + offices + len(codebooks())


def test_cli_refresh_gives_up_with_a_message(tmp_path):
    holder = _hold(
        "import time; from warehouse.db import refresh_lock\n"
        f"with refresh_lock({str(tmp_path / 'emp.duckdb')!r}, 0):\n"
        "    print('ready', flush=True); time.sleep(60)"
    )
    try:
        done = subprocess.run(
            [*EMP, "refresh"], env=_env(tmp_path, 1), capture_output=True, text=True, timeout=120
        )
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 3
    assert "Another refresh is running" in done.stderr
    assert not (tmp_path / "snapshots").exists()


@pytest.mark.slow
def test_refresh_after_refresh_adds_a_version_only_when_content_changed(tmp_path):
    first = refresh(tmp_path)
    assert first.success
    old = sorted((tmp_path / "snapshots" / "MDA").iterdir())
    old_bytes = (old[0] / "indicators.parquet").read_bytes()
    # the first refresh gave every country the same version id
    versions = {sorted((tmp_path / "snapshots" / c).iterdir())[-1].name for c in ("MAR", "MDA")}
    assert versions == {old[0].name}
    again = refresh(tmp_path)  # nothing changed: no new version, and the run says so
    assert again.success
    assert sorted((tmp_path / "snapshots" / "MDA").iterdir()) == old
    said = again.asset_materializations_for_node("snapshots__profile")
    assert "MDA" in said[0].metadata["unchanged"].value
    assert refresh(tmp_path, force=True).success  # --force writes one anyway
    versions = sorted((tmp_path / "snapshots" / "MDA").iterdir())
    assert len(versions) == 2 and versions[0] == old[0]
    assert (old[0] / "indicators.parquet").read_bytes() == old_bytes
    manifest = json.loads((versions[1] / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["changes"]["previous"] == old[0].name
    assert manifest["changes"]["added"] == manifest["changes"]["revised"] == 0
