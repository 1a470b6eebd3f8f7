"""Two countries published at once: the `publish_countries` job runs one step per country in
separate processes (Dagster's multiprocess executor), each reading the warehouse read-only."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.definitions import publish_countries_job
from publish.snapshot_index import MANIFEST_FILE, list_snapshots

pytestmark = pytest.mark.slow


def test_two_countries_publish_side_by_side_with_the_same_results(built, tmp_path, monkeypatch):
    home = tmp_path / "home"
    home.mkdir()
    shutil.copy(built.database, home / "emp.duckdb")
    shutil.copytree(built.snapshots, home / "snapshots")
    monkeypatch.setenv("EMP_HOME", str(home))
    before = {c: list_snapshots(home / "snapshots", c)[-1] for c in ("GEO", "MAR")}

    # a writer holding the warehouse would shut readers out; readers do not shut out each other
    with (
        duckdb.connect(str(home / "emp.duckdb"), read_only=True),
        dg.instance_for_test() as instance,
    ):
        result = dg.execute_job(
            dg.reconstructable(publish_countries_job),
            instance=instance,
            tags={"emp/countries": "GEO,MAR", "emp/force": "true"},
        )
        assert result.success
        events = instance.all_logs(result.run_id)

    steps = {}
    for event in events:
        if event.dagster_event and event.step_key and "publish_one_country" in event.step_key:
            kind = event.dagster_event.event_type_value
            steps.setdefault(event.step_key, {})[kind] = event.timestamp
    assert set(steps) == {"publish_one_country[GEO]", "publish_one_country[MAR]"}
    # each step ran in a process of its own, and the two overlapped in time
    pids = {
        e.step_key: e.dagster_event.pid
        for e in events
        if e.dagster_event and e.dagster_event.event_type_value == "STEP_START"
    }
    assert pids["publish_one_country[GEO]"] != pids["publish_one_country[MAR]"]
    first_end = min(s["STEP_SUCCESS"] for s in steps.values())
    assert all(s["STEP_START"] < first_end for s in steps.values())

    # the same content as the refresh published, under one new version shared by both
    after = {c: list_snapshots(home / "snapshots", c)[-1] for c in ("GEO", "MAR")}
    assert after["GEO"]["version"] == after["MAR"]["version"] != before["GEO"]["version"]
    for country in ("GEO", "MAR"):
        old, new = (
            json.loads((Path(s["path"]) / MANIFEST_FILE).read_text(encoding="utf-8"))
            for s in (before[country], after[country])
        )
        assert new["content_sha256"] == old["content_sha256"]
        report = home / "reports" / "profile" / country / "draft.html"  # awaiting approval
        assert after[country]["version"] in report.read_text(encoding="utf-8")


def test_many_countries_are_published_by_worker_processes_with_the_same_content(built, tmp_path):
    """From PARALLEL_SNAPSHOTS_FROM countries on, the snapshot step shares the countries among
    worker processes: each edition's content is the one published one country after another,
    under the same version, and a country with no data is said to have none."""
    from publish.country_profiles import PARALLEL_SNAPSHOTS_FROM, publish_countries
    from tests.conftest import warehouse_resource

    with duckdb.connect(str(built.database), read_only=True) as con:
        rows = con.execute("SELECT DISTINCT ref_area FROM marts.indicators ORDER BY 1").fetchall()
    others = [r[0] for r in rows if r[0] not in ("GEO", "MAR", "MDA", "PHL") and len(r[0]) == 3]
    countries = ["MDA", *others[: PARALLEL_SNAPSHOTS_FROM - 2], "XXX"]
    warehouse = warehouse_resource(built.snapshots.parent)
    version = "20261206T000000Z"
    editions = {}
    for label, workers in (("side by side", 2), ("one after another", 1)):
        folder = tmp_path / label
        outcomes = publish_countries(
            built.database,
            countries,
            folder,
            warehouse.specs,
            warehouse.disclosure,
            version,
            workers=workers,
        )
        assert [o.country for o in outcomes] == countries
        assert [o.status for o in outcomes] == ["published"] * (len(countries) - 1) + ["no_data"]
        editions[label] = {
            o.country: json.loads((Path(o.path) / MANIFEST_FILE).read_text(encoding="utf-8"))
            for o in outcomes
            if o.path
        }
    for country, manifest in editions["side by side"].items():
        alone = editions["one after another"][country]
        assert manifest["version"] == alone["version"] == version
        assert manifest["content_sha256"] == alone["content_sha256"]
