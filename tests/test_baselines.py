"""Impact-assessment baselines: census regions, international national data, requests without
data, logframe reconciliation, and baselines frozen in snapshots and read back without the
warehouse."""

from __future__ import annotations

import io
import json
import shutil
import subprocess
import sys
from datetime import date
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from indicators.baselines import (
    BaselineRequest,
    BaselineRequestError,
    baselines,
    did_panel,
    load_request,
    period_end,
)
from pipelines.assets import ALL_ASSETS, COUNTRIES
from publish.snapshot_baselines import choose_snapshot, frozen_tables
from publish.snapshots import list_snapshots
from sources.census.codebook import codebooks
from sources.census.generator import generate_census
from tests.conftest import warehouse_resource

MAR_REGIONS_2015 = {f"MA-{n:02d}" for n in range(1, 13)}


def emp(*args: str, home: Path) -> subprocess.CompletedProcess:
    """The CLI in a fresh process whose EMP_HOME holds no warehouse at all."""
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        capture_output=True,
        env={"EMP_HOME": str(home), "PATH": "/usr/bin:/bin"},
        cwd=Path(__file__).resolve().parents[1],
        timeout=120,
    )


def latest_tables(snapshots: Path, project: str) -> dict[str, pd.DataFrame]:
    return frozen_tables(Path(choose_snapshot(snapshots, project)["path"]), project)


def latest_indicators(snapshots: Path, country: str) -> pd.DataFrame:
    return pd.read_parquet(
        Path(list_snapshots(snapshots, country)[-1]["path"]) / "indicators.parquet"
    )


def test_period_end():
    assert period_end("2014") == date(2014, 12, 31)
    assert period_end("2019-Q2") == date(2019, 6, 30)
    assert period_end("2012-S1") == date(2012, 6, 30)
    assert period_end("2020-02") == date(2020, 2, 29)
    assert period_end("1990-1995") is None


def test_intervention_and_comparison_regions_from_the_census(built):
    table = latest_tables(built.snapshots, "Morocco-32")["baselines"]
    households = table[table.indicator_id == "CEN_HOUSEHOLDS_MEMBER_ABROAD"]
    roles = households.groupby("role")["ref_area"].apply(set)
    assert roles["intervention"] == {"MA-05", "MA-KHO"}
    assert roles["national"] == {"MAR"}
    regions = set(households[households.area_level == "region"].ref_area)
    assert regions == MAR_REGIONS_2015  # the 2015 regions in force at the start, not 1997's
    assert MAR_REGIONS_2015 - {"MA-05"} <= roles["comparison"]
    assert {"MA-CAS", "MA-NAD"} <= roles["comparison"]  # a prefecture and a province
    assert "MA-KHO" not in roles["comparison"]
    khouribga = households[households.ref_area == "MA-KHO"].iloc[0]
    assert khouribga.status == "value" and khouribga.time_period == "2014"
    assert (
        list(khouribga.source_ids) == ["census_mar"] and "mar_2014" in khouribga.source_vintages[0]
    )
    # the frozen value is the census indicator the same snapshot published
    published = latest_indicators(built.snapshots, "MAR")
    same = published[
        (published.indicator_id == "CEN_HOUSEHOLDS_MEMBER_ABROAD")
        & (published.ref_area == "MA-KHO")
    ].obs_value.item()
    assert khouribga.obs_value == pytest.approx(same)
    # disclosure: a suppressed cell has no value, CONF_STATUS C, says which pass hid it and why
    suppressed = table[table.status == "suppressed"]
    assert len(suppressed) > 0 and suppressed.obs_value.isna().all()
    assert (suppressed.conf_status == "C").all()
    assert set(suppressed.suppression) <= {"primary", "secondary"}
    assert suppressed.reason.str.contains("disclosure control").all()
    assert (table.loc[table.status == "value", "conf_status"] == "F").all()


def test_a_national_indicator_from_international_data(built):
    table = latest_tables(built.snapshots, "Morocco-32")["baselines"]
    remittances = table[table.indicator_id == "REM_IN_USD"]
    national = remittances[remittances.ref_area == "MAR"].iloc[0]
    # WDI BX.TRF.PWKR.CD.DT, Morocco, 2015: the latest year on or before 2016-01-01
    assert national.time_period == "2015"
    assert national.obs_value == pytest.approx(6_903_543_638, rel=1e-6)
    assert list(national.source_ids) == ["wdi_remittances_received"]
    assert national.unit_measure == "USD"
    provinces = remittances[remittances.ref_area != "MAR"]
    # one row per intervention area says so; the comparison areas get none
    assert set(provinces.role) == {"intervention"} and len(provinces) == 2
    assert (provinces.status == "no_value").all()
    assert provinces.reason.str.startswith(
        "the indicator is published at national level only"
    ).all()


def test_logframe_baselines_are_reconciled(built):
    morocco = latest_tables(built.snapshots, "Morocco-32")["reconciliation"].iloc[0]
    assert morocco.logframe_indicator == "MIDEF-3" and morocco.profile_period == "2010"
    assert morocco.profile_value == pytest.approx(6_422_541_530, rel=1e-6)  # WDI Morocco 2010
    assert morocco.difference_pct == pytest.approx(-0.351, abs=0.001)
    assert morocco.status == "within_tolerance"
    moldova = latest_tables(built.snapshots, "Moldova-31")["reconciliation"].iloc[0]
    assert moldova.profile_value == pytest.approx(1_352_350_000, rel=1e-6)  # WDI Moldova 2009
    assert moldova.status == "beyond_tolerance" and "-12.7 %" in moldova.reason
    left_behind = latest_tables(built.snapshots, "Moldova-29")["reconciliation"]
    survey = left_behind[left_behind.indicator_id == "LAB_ABROAD"].iloc[0]
    assert survey.status == "no_profile_value" and "earliest is 2019" in survey.reason


def test_requests_without_data_say_why(built, tmp_path):
    unlinked = latest_tables(built.snapshots, "Morocco-33")["baselines"]
    assert len(unlinked) == 1 and unlinked.status.item() == "no_value"
    assert "no logframe indicator is linked" in unlinked.reason.item()
    indicators = latest_indicators(built.snapshots, "MAR")
    early = BaselineRequest(
        id="early",
        country="MAR",
        indicators=["IMM_STOCK", "CEN_FOREIGN_BORN", "EMI_FLOW", "LAB_DEPLOYED"],
        intervention_areas=["MAR"],
        start=date(1985, 1, 1),
    )
    table = baselines(indicators, early)
    assert set(table.status) == {"no_value"} and table.reason.notna().all()
    reasons = dict(zip(table.indicator_id, table.reason, strict=True))
    assert reasons["IMM_STOCK"].endswith("the earliest is 1990")
    assert reasons["CEN_FOREIGN_BORN"].endswith("the earliest is 2014")
    assert "in any area or period" in reasons["EMI_FLOW"]  # no Moroccan source feeds it
    # sent by sector only: its total is computed (sum of the sectors), from 2019
    assert reasons["LAB_DEPLOYED"].endswith("the earliest is 2019")
    later = baselines(indicators, early.model_copy(update={"start": date(2021, 1, 1)}))
    deployed = later[later.indicator_id == "LAB_DEPLOYED"].iloc[0]
    assert deployed.status == "value" and "breakdown" in deployed.computed.split("+")
    assert deployed.reason.startswith("computed: the sum of the reported values by")
    stale = early.model_copy(update={"start": date(2000, 6, 1), "window_years": 3})
    old = baselines(indicators, stale)
    stock = old[old.indicator_id == "IMM_STOCK"].iloc[0]
    assert stock.status == "no_value" and "older than the 3-year window" in stock.reason


def test_difference_in_differences_panel(built):
    panel = latest_tables(built.snapshots, "Morocco-32")["panel"]
    assert set(panel.loc[panel.treated, "ref_area"]) == {"MA-05", "MA-KHO"}
    assert not panel.post.any()  # the census (2014) precedes the 2016 start
    indicators = latest_indicators(built.snapshots, "MAR")
    earlier = load_request(Path("sources/baselines/Morocco-32.yaml")).model_copy(
        update={"start": date(2012, 1, 1)}
    )
    shifted = did_panel(indicators, earlier)
    assert shifted.post.all() and set(shifted.treated) == {True, False}
    assert {"ref_area", "time_period", "indicator_id", "obs_value", "treated", "post"} <= set(
        shifted.columns
    )


def test_a_bad_request_names_its_problems(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text(
        "id: bad\ncountry: MAR\nstart: 2016-01-01\nintervention_areas: [MA-99]\n"
        "indicators: [NOT_AN_INDICATOR]\nwindow: 3\n",
        encoding="utf-8",
    )
    with pytest.raises(BaselineRequestError, match=r"window: Extra inputs"):
        load_request(path, {"REM_IN_USD"})
    path.write_text(path.read_text().replace("window: 3\n", ""), encoding="utf-8")
    with pytest.raises(BaselineRequestError) as err:
        load_request(path, {"REM_IN_USD"})
    assert "'NOT_AN_INDICATOR' is not in the catalogue" in str(err.value)
    assert "'MA-99' is not a MAR area in use on 2016-01-01" in str(err.value)


def test_cli_reads_a_copy_of_the_snapshots_alone(built, tmp_path):
    copy = tmp_path / "snapshots"
    shutil.copytree(built.snapshots, copy)
    for path in copy.rglob("*"):
        path.chmod(0o555 if path.is_dir() else 0o444)
    home = tmp_path / "no-warehouse"
    common = ["baseline", "--project", "Morocco-32", "--snapshots", str(copy)]
    done = emp(*common, "--format", "json", home=home)
    assert done.returncode == 0, done.stderr.decode()
    rows = json.loads(done.stdout)["rows"]
    assert {r["request_id"] for r in rows} == {"Morocco-32"}
    assert not home.exists()  # nothing created: no warehouse, no state
    out = tmp_path / "panel.parquet"
    philippines = ["baseline", "--project", "PHL-regional-emigration", "--snapshots", str(copy)]
    done = emp(
        *philippines, "--table", "panel", "--format", "parquet", "--output", str(out), home=home
    )
    assert done.returncode == 0 and pd.read_parquet(out).treated.any()
    # Morocco-32's panel holds the 2014 census alone: no period after its 2016 start
    refused = emp(
        *common, "--table", "panel", "--format", "parquet", "--output", str(out), home=home
    )
    assert refused.returncode == 5
    csv = emp(*common, "--format", "csv", home=home)
    frame = pd.read_csv(io.BytesIO(csv.stdout))
    assert len(frame) == len(rows) and "census_mar" in set(frame.source_ids.dropna())
    too_early = emp(*common, "--as-of", "2001-01-01", home=home)
    assert too_early.returncode == 2 and b"no snapshot published on or before" in too_early.stderr
    unknown = emp("baseline", "--project", "Nowhere-1", "--snapshots", str(copy), home=home)
    assert unknown.returncode == 2 and b"no baseline for 'Nowhere-1'" in unknown.stderr


@pytest.mark.slow
def test_a_revised_source_makes_a_new_version_and_the_old_baseline_stays(built, tmp_path):
    root = tmp_path / "emp"
    shutil.copytree(built.database.parent, root)
    snapshots = root / "snapshots"
    first = list_snapshots(snapshots, "MAR")[-1]["version"]
    before = emp(
        "baseline",
        "--project",
        "Morocco-32",
        "--snapshots",
        str(snapshots),
        "--format",
        "json",
        home=tmp_path / "h",
    ).stdout
    # the statistics office re-releases the census file: a new batch, new census indicators
    generate_census(codebooks()["mar_2014"], 25_000, root / "census" / "source" / "mar_2014")
    keys = COUNTRIES.get_partition_keys()
    result = dg.materialize(
        ALL_ASSETS,
        resources={"warehouse": warehouse_resource(root)},
        tags={
            "dagster/asset_partition_range_start": keys[0],
            "dagster/asset_partition_range_end": keys[-1],
        },
    )
    assert result.success
    versions = [s["version"] for s in list_snapshots(snapshots, "MAR")]
    assert versions[0] == first and len(versions) == 2
    again = emp(
        "baseline",
        "--project",
        "Morocco-32",
        "--snapshots",
        str(snapshots),
        "--snapshot",
        first,
        "--format",
        "json",
        home=tmp_path / "h",
    ).stdout
    assert again == before  # byte for byte
    latest = json.loads(
        emp(
            "baseline",
            "--project",
            "Morocco-32",
            "--snapshots",
            str(snapshots),
            "--format",
            "json",
            home=tmp_path / "h",
        ).stdout
    )["rows"]
    old = json.loads(before)["rows"]

    def household_share(rows, area):
        return next(
            r["obs_value"]
            for r in rows
            if r["indicator_id"] == "CEN_HOUSEHOLDS_MEMBER_ABROAD" and r["ref_area"] == area
        )

    assert household_share(latest, "MAR") != pytest.approx(household_share(old, "MAR"))
    assert {r["snapshot_version"] for r in latest} == {versions[1]}
    remittances = [
        r for r in latest if r["indicator_id"] == "REM_IN_USD" and r["ref_area"] == "MAR"
    ]
    assert remittances[0]["obs_value"] == pytest.approx(6_903_543_638, rel=1e-6)  # unrevised


def test_a_request_file_that_cannot_be_used_is_held_back_alone(tmp_path):
    import shutil

    from indicators.baselines import REQUESTS_DIR, usable_requests

    shutil.copytree(REQUESTS_DIR, tmp_path / "requests")
    folder = tmp_path / "requests"
    (folder / "broken.yaml").write_bytes(b"id: [\n")
    twin = next(folder.glob("Morocco-32.yaml"))
    (folder / "twin.yaml").write_text(twin.read_text(encoding="utf-8"), encoding="utf-8")
    requests, held = usable_requests(folder)
    reasons = dict(held)
    assert any(p.endswith("broken.yaml") for p in reasons)
    assert sum("used by another request file" in r for r in reasons.values()) == 2
    assert "Morocco-32" not in {r.id for r in requests} and len(requests) >= 2
