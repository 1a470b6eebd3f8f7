"""What a refresh has to redo: input digests by group, and the countries a change concerns."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
import pytest

from pipelines.assets import INPUT_ASSETS
from pipelines.resources import WarehouseResource
from sources.specs import spec_set
from warehouse.fingerprints import (
    CODE,
    CONFIGURATION,
    INTERNATIONAL,
    affected_countries,
    plan_refresh,
    record_refresh,
    take_fingerprint,
)
from warehouse.settings import Settings

COUNTRIES = ["GEO", "MAR", "MDA", "PHL"]


@pytest.fixture()
def layout(tmp_path: Path, monkeypatch) -> Settings:
    """A working group's folders: a public folder with one release, ministry folders of two
    countries, and an empty inbox."""
    monkeypatch.setenv("EMP_HOME", str(tmp_path / "home"))
    public = tmp_path / "public"
    public.mkdir()
    (public / "release.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    national = tmp_path / "national"
    for folder, name in (
        ("MAR_MAE", "immatriculations_consulaires_2019.csv"),
        ("MDA_BNS", "x.csv"),
    ):
        (national / folder).mkdir(parents=True)
        (national / folder / name).write_text(f"{folder},1\n", encoding="utf-8")
    settings = replace(
        Settings.from_env(),
        public_data=public,
        national_data=national,
        national_statistics=None,
    )
    Path(settings.inbox).mkdir(parents=True)
    Path(settings.database).write_bytes(b"")  # the record is kept beside a warehouse
    return settings


def specs():
    return spec_set(None).specs


def test_groups_follow_whom_a_file_concerns(layout: Settings):
    found = take_fingerprint(layout, specs())
    assert {INTERNATIONAL, CODE, CONFIGURATION, "national/MAR", "national/MDA"} <= set(found.groups)
    # a group's digest is the digest of its files' SHA-256 set, worked out by hand here
    text = b"MAR_MAE,1\n"
    expected = hashlib.sha256(hashlib.sha256(text).hexdigest().encode()).hexdigest()
    assert found.groups["national/MAR"] == expected


def test_a_file_moved_from_the_inbox_to_the_archive_is_the_same_input(layout: Settings):
    drop = Path(layout.inbox) / "MAR_MAE"
    drop.mkdir()
    (drop / "immatriculations_consulaires_2020.csv").write_text("new,2\n", encoding="utf-8")
    before = take_fingerprint(layout, specs())
    archived = layout.archive / "MAR_MAE" / "20261123T000000Z__immatriculations_2020.csv"
    archived.parent.mkdir(parents=True)
    shutil.move(drop / "immatriculations_consulaires_2020.csv", archived)
    Path(f"{archived}.report.json").write_text("{}", encoding="utf-8")  # EMP's own note
    assert take_fingerprint(layout, specs()).changed(before.groups) == []


def test_a_new_ministry_file_concerns_its_country_only(layout: Settings):
    before = take_fingerprint(layout, specs())
    drop = Path(layout.inbox) / "MAR_MAE"
    drop.mkdir()
    (drop / "immatriculations_consulaires_2020.csv").write_text("new,2\n", encoding="utf-8")
    changed = take_fingerprint(layout, specs()).changed(before.groups)
    assert changed == ["national/MAR"]
    assert affected_countries(changed, COUNTRIES) == ["MAR"]


def test_a_new_release_or_a_changed_setting_concerns_every_country(layout: Settings, monkeypatch):
    before = take_fingerprint(layout, specs())
    (Path(layout.public_data) / "release_2025.csv").write_text("a,b\n3,4\n", encoding="utf-8")
    changed = take_fingerprint(layout, specs()).changed(before.groups)
    assert changed == [INTERNATIONAL]
    assert affected_countries(changed, COUNTRIES) == COUNTRIES
    monkeypatch.setenv("EMP_SDC_THRESHOLD", "20")
    again = take_fingerprint(layout, specs())
    assert CONFIGURATION in again.changed(before.groups)
    assert affected_countries([CONFIGURATION], COUNTRIES) == COUNTRIES


def test_a_digest_is_reused_only_while_size_and_time_are_unchanged(layout: Settings):
    first = take_fingerprint(layout, specs())
    path = Path(layout.public_data) / "release.csv"
    # a stale record for the file: same size and time would reuse it, so rewrite the file
    known = dict(first.files)
    known[str(path)] = [*known[str(path)][:2], "0" * 64]
    assert (
        take_fingerprint(layout, specs(), known).groups[INTERNATIONAL]
        != first.groups[INTERNATIONAL]
    )
    path.write_text("a,b\n1,9\n", encoding="utf-8")
    assert take_fingerprint(layout, specs(), first.files).groups != first.groups


def test_the_plan_skips_what_nothing_touched(layout: Settings, tmp_path: Path):
    first = plan_refresh(layout, COUNTRIES, specs())
    assert first.publish == COUNTRIES and not first.nothing_changed  # no record yet
    published = {}
    for country in COUNTRIES:
        folder = tmp_path / "snapshots" / country / "v1"
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_text('{"files": []}', encoding="utf-8")
        published[country] = {"path": str(folder)}
    record_refresh(layout, first.fingerprint, {"snapshots": published})
    assert plan_refresh(layout, COUNTRIES, specs()).nothing_changed
    assert plan_refresh(layout, COUNTRIES, specs(), force=True).publish == COUNTRIES
    # a published edition edited afterwards is not what the last refresh published: redo it
    manifest = tmp_path / "snapshots" / "MDA" / "v1" / "manifest.json"
    manifest.write_text('{"files": [], "forged": true}', encoding="utf-8")
    assert plan_refresh(layout, COUNTRIES, specs()).publish == COUNTRIES
    manifest.write_text('{"files": []}', encoding="utf-8")
    assert plan_refresh(layout, COUNTRIES, specs()).nothing_changed

    drop = Path(layout.inbox) / "MAR_MAE"
    drop.mkdir()
    (drop / "immatriculations_consulaires_2020.csv").write_text("new,2\n", encoding="utf-8")
    plan = plan_refresh(layout, COUNTRIES, specs())
    assert (plan.publish, plan.skipped) == (["MAR"], ["GEO", "MDA", "PHL"])

    shutil.rmtree(tmp_path / "snapshots" / "GEO")  # a published snapshot gone: redo it all
    assert plan_refresh(layout, COUNTRIES, specs()).publish == COUNTRIES


def test_inputs_are_observed_with_their_digests_as_data_versions(layout: Settings):
    resource = WarehouseResource.from_settings(layout)
    defs = dg.Definitions(
        assets=INPUT_ASSETS,
        jobs=[dg.define_asset_job("observe", dg.AssetSelection.all(include_sources=True))],
        resources={"warehouse": resource},
    )
    found = take_fingerprint(layout, specs())
    with dg.instance_for_test() as instance:
        result = defs.resolve_job_def("observe").execute_in_process(
            instance=instance,
            tags={
                "dagster/asset_partition_range_start": "GEO",
                "dagster/asset_partition_range_end": "PHL",
            },
        )
        assert result.success
        versions = {
            (e.asset_key.to_user_string(), e.partition): observed(e)
            for e in result.get_asset_observation_events()
        }
    assert versions[("inputs/international_files", None)] == found.groups[INTERNATIONAL]
    assert versions[("inputs/national_files", "MAR")].startswith(found.groups["national/MAR"][:24])
    assert versions[("inputs/national_files", "GEO")].startswith("none:")  # nothing of Georgia's


def test_the_schedule_runs_only_what_a_change_makes_stale(layout: Settings, tmp_path: Path):
    from pipelines.definitions import quarterly_refresh

    resource = WarehouseResource.from_settings(layout)

    def tick():
        context = dg.build_schedule_context(
            scheduled_execution_time=datetime(2027, 1, 1, 6, tzinfo=UTC),
            resources={"warehouse": resource},
        )
        return quarterly_refresh(context)

    everything = tick()
    assert everything.tags["dagster/asset_partition_range_start"] == "GEO"
    assert dg.AssetKey(["raw", "publisher_releases"]) in everything.asset_selection
    published = {}
    for country in COUNTRIES:
        folder = tmp_path / "snapshots" / country / "v1"
        folder.mkdir(parents=True)
        (folder / "manifest.json").write_text('{"files": []}', encoding="utf-8")
        published[country] = {"path": str(folder)}
    record_refresh(layout, take_fingerprint(layout, specs()), {"snapshots": published})
    assert isinstance(tick(), dg.SkipReason)

    drop = Path(layout.inbox) / "MAR_MAE"
    drop.mkdir()
    (drop / "immatriculations_consulaires_2020.csv").write_text("new,2\n", encoding="utf-8")
    stale = tick()
    assert stale.tags["dagster/asset_partition_range_start"] == "MAR"
    assert stale.tags["dagster/asset_partition_range_end"] == "MAR"
    selected = {k.to_user_string() for k in stale.asset_selection}
    assert {"raw/national_submissions", "marts/indicators", "snapshots/profile"} <= selected
    assert not selected & {"raw/publisher_releases", "raw/census", "core/census_indicators"}


def observed(event) -> str:
    return event.event_specific_data.asset_observation.data_version
