"""Shared fixtures: one real refresh (Dagster, in-process) into a temporary DuckDB file, built
once per test session and shared by every pytest-xdist worker (tests/session_refresh.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.assets import ALL_ASSETS, COUNTRIES
from pipelines.resources import WarehouseResource
from sources.data_home import national_statistics_dir, public_data_dir
from sources.samples import NATIONAL_DATA_DIR
from tests.session_refresh import RecordedRun, build

PROFILE_COUNTRIES = ("GEO", "MAR", "MDA", "PHL")
# Messages in English whatever the machine's locale (tests that read another language ask for it).
os.environ["EMP_LANG"] = "en"


def latest_manifests(snapshots: Path) -> dict[str, dict]:
    """Each published country's latest manifest."""
    from publish.snapshot_index import list_snapshots

    found = {s["country"]: Path(s["path"]) for s in list_snapshots(snapshots)}
    return {
        country: json.loads((path / "manifest.json").read_text(encoding="utf-8"))
        for country, path in found.items()
    }


@dataclass(frozen=True)
class Built:
    database: Path
    snapshots: Path
    result: RecordedRun

    def query(self, sql: str, params: list | None = None):
        with duckdb.connect(str(self.database), read_only=True) as con:
            return con.execute(sql, params or []).df()


def warehouse_resource(root: Path, lock_wait_seconds: float = 5, **paths: str) -> WarehouseResource:
    """A warehouse under `root`, on the bundled data unless `paths` say otherwise."""
    settings = {
        "database": str(root / "emp.duckdb"),
        "snapshots_dir": str(root / "snapshots"),
        "public_data_dir": str(public_data_dir()),
        "national_data_dir": str(NATIONAL_DATA_DIR),
        "national_statistics_dir": str(national_statistics_dir()),
        "inbox_dir": str(root / "inbox"),
        "lock_wait_seconds": lock_wait_seconds,
    }
    return WarehouseResource(**{**settings, **paths})


def refresh(
    root: Path,
    force: bool = False,
    raise_on_error: bool = True,
    instance: dg.DagsterInstance | None = None,
    **paths: str,
) -> dg.ExecuteInProcessResult:
    """Every asset for every profile country into `root` (on the bundled data unless `paths`
    name other folders, as `warehouse_resource` takes them)."""
    keys = COUNTRIES.get_partition_keys()
    return dg.materialize(
        ALL_ASSETS,
        resources={"warehouse": warehouse_resource(root, **paths)},
        tags={
            "dagster/asset_partition_range_start": keys[0],
            "dagster/asset_partition_range_end": keys[-1],
            "emp/force": str(force).lower(),
        },
        raise_on_error=raise_on_error,
        instance=instance,
    )


def _session_root(config: pytest.Config) -> Path:
    """Where the session's refresh lives: the same folder for the controller and every worker."""
    base = config._tmp_path_factory.getbasetemp()  # noqa: SLF001 - pytest's own factory
    return (base.parent if hasattr(config, "workerinput") else base) / "session-refresh"


@pytest.hookimpl(trylast=True)  # after pytest has made its base temporary folder
def pytest_configure(config: pytest.Config) -> None:
    """With workers (`-n`), start the session's refresh at once in the background: the workers
    run the tests that do not need it meanwhile (they come first, see below)."""
    if hasattr(config, "workerinput") or not getattr(config.option, "numprocesses", None):
        return
    root = _session_root(config)
    root.mkdir(parents=True, exist_ok=True)
    log = (root.parent / "session-refresh.log").open("w")
    config._emp_refresh = subprocess.Popen(  # noqa: SLF001
        [sys.executable, "-m", "tests.session_refresh", str(root)],
        cwd=Path(__file__).resolve().parents[1],
        stdout=log,
        stderr=subprocess.STDOUT,
    )


def pytest_unconfigure(config: pytest.Config) -> None:
    process = getattr(config, "_emp_refresh", None)
    if process is not None and process.poll() is None:
        process.terminate()
        process.wait(timeout=30)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """The files whose tests need the session's refresh run last, each file kept whole."""
    needing = {item.path for item in items if "built" in item.fixturenames}
    items.sort(key=lambda item: item.path in needing)


@pytest.fixture(scope="session")
def built(request: pytest.FixtureRequest) -> Built:
    """The whole pipeline on the bundled data, once per test session (and once for all workers)."""
    root = _session_root(request.config)
    outcome = build(root)
    if not outcome["run_id"]:
        pytest.fail(f"the session's refresh failed:\n{outcome['error']}")
    return Built(
        root / "emp.duckdb",
        root / "snapshots",
        RecordedRun(root, outcome["run_id"], outcome["success"]),
    )
