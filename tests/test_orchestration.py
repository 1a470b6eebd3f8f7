"""What a working group runs: partitions by country, the quarterly schedule, the inbox sensor,
freshness policies on the sources, asset metadata, and `emp refresh`'s summary and exit codes."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import httpx
import pytest
import yaml

from pipelines.assets import COUNTRIES, RAW_ASSETS
from pipelines.definitions import QUARTERLY_CRON, defs, quarterly_refresh
from pipelines.jobs import LOCATION_NAME, PUBLISH_JOB, REFRESH_JOB
from pipelines.resources import WarehouseResource
from warehouse.settings import Settings

ROOT = Path(__file__).resolve().parents[1]


def test_the_refresh_jobs_are_the_workspaces():
    """`emp refresh` runs the workspace's own jobs, in the code location workspace.yaml names."""
    workspace = yaml.safe_load((ROOT / "workspace.yaml").read_text(encoding="utf-8"))
    assert workspace["load_from"][0]["python_module"]["location_name"] == LOCATION_NAME
    for name in (REFRESH_JOB, PUBLISH_JOB):
        assert defs.resolve_job_def(name) is not None


def test_every_sensor_and_schedule_is_in_the_operators_page():
    readme = (ROOT / "docs" / "operator.md").read_text(encoding="utf-8")
    names = [s.name for s in defs.sensors or []] + [s.name for s in defs.schedules or []]
    assert len(names) >= 5
    for name in names:
        assert f"| `{name}` |" in readme, name


def _reexecuted_from_the_ui(home: Path, run_id: str, env: dict) -> None:
    """The Dagster webserver over the refresh's instance finds the run's job and accepts its
    re-execution (queued for the daemon, which `make dev` runs)."""
    port = _free_port()
    server = subprocess.Popen(
        [sys.executable, "-m", "dagster_webserver", "-w", "workspace.yaml", "-p", str(port)],
        cwd=ROOT,
        env={**os.environ, **env, "DAGSTER_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}/graphql"
    try:
        deadline = time.monotonic() + 180
        while time.monotonic() < deadline:
            try:
                httpx.get(f"http://127.0.0.1:{port}/server_info", timeout=2).raise_for_status()
                break
            except httpx.HTTPError:
                time.sleep(1)
        run = httpx.post(url, json={"query": RUN_QUERY, "variables": {"id": run_id}}, timeout=60)
        found = run.json()["data"]["runOrError"]
        assert found["repositoryOrigin"]["repositoryLocationName"] == LOCATION_NAME, found
        assert found["hasReExecutePermission"]
        params = {"parentRunId": run_id, "strategy": "ALL_STEPS"}
        again = httpx.post(url, json={"query": REEXECUTE, "variables": {"p": params}}, timeout=120)
        launched = again.json()["data"]["launchPipelineReexecution"]
        assert launched["__typename"] == "LaunchRunSuccess", launched
        assert launched["run"]["jobName"] == found["jobName"]
    finally:
        server.terminate()
        server.wait(timeout=30)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


RUN_QUERY = """query($id: ID!) { runOrError(runId: $id) { __typename ... on Run {
  jobName hasReExecutePermission repositoryOrigin { repositoryLocationName repositoryName } } } }"""
REEXECUTE = """mutation($p: ReexecutionParams!) { launchPipelineReexecution(reexecutionParams: $p) {
  __typename ... on LaunchRunSuccess { run { runId jobName } }
  ... on PythonError { message } ... on InvalidSubsetError { message } } }"""


def test_definitions_load_with_schedule_sensor_and_partitions(tmp_path, monkeypatch):
    monkeypatch.setenv("EMP_HOME", str(tmp_path))  # no refresh recorded: every country
    dg.Definitions.validate_loadable(defs)
    assert defs.resolve_schedule_def("quarterly_refresh").cron_schedule == QUARTERLY_CRON
    assert defs.resolve_sensor_def("inbox_sensor") is not None
    assert COUNTRIES.get_partition_keys() == ["GEO", "MAR", "MDA", "PHL"]
    resource = WarehouseResource.from_settings(Settings.from_env())
    request = quarterly_refresh(
        dg.build_schedule_context(
            scheduled_execution_time=datetime(2027, 4, 1, 6, tzinfo=UTC),
            resources={"warehouse": resource},
        )
    )
    assert request.run_key == "quarterly-2027-04-01"
    assert request.tags["dagster/asset_partition_range_start"] == "GEO"
    assert request.tags["dagster/asset_partition_range_end"] == "PHL"


def test_every_source_has_a_freshness_policy_and_every_asset_a_description():
    graph = defs.resolve_asset_graph()
    sources = [key for a in RAW_ASSETS for key in a.keys] + [
        dg.AssetKey(["raw", "national_submissions"])
    ]
    for key in sources:
        policy = graph.get(key).freshness_policy
        assert policy is not None and policy.fail_window.to_timedelta().days >= 200, key
    for key in graph.get_all_asset_keys():  # the inputs observed, and every asset
        assert graph.get(key).description, key
    inputs = [key for key in graph.get_all_asset_keys() if key.path[0] == "inputs"]
    assert len(inputs) == 4 and all(graph.get(k).is_observable for k in inputs)
    assert all(graph.get(k).code_version for k in graph.materializable_asset_keys)


def test_materializations_carry_row_counts_and_the_releases_read(built):
    events = built.result.get_asset_materialization_events()
    metadata = {}
    for event in events:
        metadata.setdefault(event.asset_key.to_user_string(), event.materialization.metadata)
    raw = metadata["raw/publisher_releases"]
    assert raw["dagster/row_count"].value > 100_000  # rows of the files, not cells
    assert "un_desa_ims | 2019 | loaded" in raw["releases"].value
    national = metadata["raw/national_submissions"]
    assert national["dagster/row_count"].value > 0
    assert metadata["marts/indicators"]["dagster/row_count"].value > 100_000
    assert metadata["marts/baselines"]["dagster/row_count"].value > 0


@pytest.mark.slow
def test_emp_refresh_summary_and_exit_code(tmp_path):
    env = {"EMP_HOME": str(tmp_path), "EMP_COUNTRIES": "GEO,MAR,MDA,PHL", "PATH": "/usr/bin:/bin"}
    cwd = Path(__file__).resolve().parents[1]
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "refresh", "--country", "GEO", "--json"],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=900,
    )
    summary = json.loads(done.stdout)
    # exit 4 exactly when every country was published and something is listed as held back
    assert done.returncode == (4 if summary["held_back"] else 0), done.stderr[-2000:]
    assert summary["success"] and summary["countries"] == ["GEO"] and not summary["failures"]
    geo = summary["snapshots"]["GEO"]
    assert geo["indicators"] >= 10 and "EMI_FLOW" in geo["gaps"]  # no Georgian border data
    assert list(summary["snapshots"]) == ["GEO"]
    picked_up = {r["series"]: r["vintage"] for r in summary["new_releases"]}
    assert len(picked_up) == 14  # a fresh warehouse: every default release is new
    assert picked_up["un_desa_ims"].startswith("International Migrant Stock 2019")
    # the run is in the instance `make dev` opens: EMP_HOME/dagster, prompts and statistics off
    home = tmp_path / "dagster"
    assert "telemetry:\n  enabled: false" in (home / "dagster.yaml").read_text(encoding="utf-8")
    with dg.DagsterInstance.from_config(str(home)) as instance:
        runs = instance.get_runs()
        assert runs and all(r.status == dg.DagsterRunStatus.SUCCESS for r in runs)
        event = instance.get_latest_materialization_event(dg.AssetKey(["marts", "indicators"]))
        schema = event.asset_materialization.metadata["dagster/column_schema"].schema
        described = {c.name: c.description for c in schema.columns}
        assert described["obs_status"].startswith("SDMX OBS_STATUS")
        checks = instance.all_logs(
            runs[0].run_id, of_type=dg.DagsterEventType.ASSET_CHECK_EVALUATION
        )
        assert len(checks) >= 5
        # the command line lists the checks that did not pass as the UI does, same severity
        in_the_ui = set()
        for record in checks:
            evaluation = record.get_dagster_event().event_specific_data
            if not evaluation.passed:
                word = "failed" if evaluation.severity.value == "ERROR" else "warned"
                asset = evaluation.asset_key.to_user_string()
                in_the_ui.add(f"{asset}: check {evaluation.check_name} {word}")
        said = {w for w in summary["warnings"] + summary["failures"] if ": check " in w}
        assert in_the_ui and said == in_the_ui
        # the runs belong to the workspace's jobs, as the UI's own runs do
        assert {r.job_name for r in runs} <= {REFRESH_JOB, PUBLISH_JOB}
        assert all(r.remote_job_origin.location_name == LOCATION_NAME for r in runs)
    _reexecuted_from_the_ui(home, runs[-1].run_id, env)
    wrong = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "refresh", "--country", "FRA"],
        capture_output=True,
        text=True,
        env=env,
        cwd=cwd,
        timeout=300,
    )
    assert wrong.returncode != 0 and "FRA not among the profile countries" in wrong.stderr
