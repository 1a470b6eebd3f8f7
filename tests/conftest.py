"""Shared fixtures: one real refresh (Dagster, in-process) into a temporary DuckDB file."""

from __future__ import annotations

import json
import os
from dataclasses import dataclass
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.assets import ALL_ASSETS, COUNTRIES
from pipelines.resources import WarehouseResource
from sources.data_home import national_statistics_dir, public_data_dir
from sources.samples import NATIONAL_DATA_DIR

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
    result: dg.ExecuteInProcessResult

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
    root: Path, force: bool = False, raise_on_error: bool = True, **paths: str
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
    )


@pytest.fixture(scope="session")
def built(tmp_path_factory) -> Built:
    """The whole pipeline on the bundled data, once per test session."""
    root = tmp_path_factory.mktemp("emp")
    result = refresh(root)
    return Built(root / "emp.duckdb", root / "snapshots", result)
