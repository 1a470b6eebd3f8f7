"""Baselines an evaluator can estimate on: the Philippine regional panel (real CFO series,
illustrative policy) read with statsmodels, a two-way fixed-effects difference-in-differences
pinned against a hand computation, panels that cannot identify an effect refused, census rows
with their counts and standard errors, self-describing outputs, frozen bytes, and the values a
later snapshot would change."""

from __future__ import annotations

import hashlib
import json
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from publish.snapshot_check import reseal
from publish.snapshots import list_snapshots

ROOT = Path(__file__).resolve().parents[1]
CASE = "PHL-regional-emigration"


def emp(*args: str, snapshots: Path) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args, "--snapshots", str(snapshots)],
        capture_output=True,
        timeout=300,
        cwd=ROOT,
    )


@pytest.fixture(scope="module")
def panel(built, tmp_path_factory) -> pd.DataFrame:
    """The Philippine panel as an evaluator gets it: `emp baseline --table panel`, CSV."""
    out = tmp_path_factory.mktemp("panel") / "panel.csv"
    done = emp(
        "baseline",
        "--project",
        CASE,
        "--table",
        "panel",
        "--output",
        str(out),
        snapshots=built.snapshots,
    )
    assert done.returncode == 0, done.stderr.decode()
    return pd.read_csv(out)


def test_the_philippine_panel_has_pre_and_post_periods_in_both_groups(panel):
    values = panel[panel["status"] == "value"]
    assert set(values["area_level"]) == {"region"}
    cells = values.groupby(["treated", "post"]).size()
    assert all(cells.get((t, p), 0) > 0 for t in (True, False) for p in (True, False))
    assert sorted(values.loc[values["treated"], "ref_area"].unique()) == ["PH-01", "PH-03"]
    assert values["time_period"].min() == 1988 and values["time_period"].max() == 2020
    # CALABARZON exists from 2002: its rows start then, and say the area was valid
    calabarzon = values[values["ref_area"] == "PH-40"]
    assert calabarzon["time_period"].min() == 2002 and calabarzon["area_valid"].all()
    assert (values["indicator_name"] == "Emigration flow").all()
    assert (values["unit_name"] == "persons").all()


def test_a_two_way_fixed_effects_did_on_the_panel_matches_a_hand_computation(panel):
    """No causal claim: the pipe from snapshot to estimate, checked on the same numbers."""
    import statsmodels.formula.api as smf

    rows = panel[panel["status"] == "value"].copy()
    periods = rows["time_period"].nunique()
    balanced = rows.groupby("ref_area")["time_period"].transform("nunique") == periods
    rows = rows[balanced]
    rows["treated_post"] = (rows["treated"] & rows["post"]).astype(int)
    model = smf.ols("obs_value ~ treated_post + C(ref_area) + C(time_period)", data=rows).fit()
    means = rows.groupby(["treated", "post"])["obs_value"].mean()
    hand = (means[True, True] - means[True, False]) - (means[False, True] - means[False, False])
    assert model.params["treated_post"] == pytest.approx(hand, rel=1e-9)
    # the same numbers, computed again from the snapshot's indicators without the pipe
    assert rows["ref_area"].nunique() == 15 and len(rows) == 15 * 33


def test_pretrends_give_the_pre_period_means_of_each_group(built, panel, tmp_path):
    out = tmp_path / "pretrends.csv"
    done = emp(
        "baseline",
        "--project",
        CASE,
        "--table",
        "pretrends",
        "--output",
        str(out),
        snapshots=built.snapshots,
    )
    assert done.returncode == 0, done.stderr.decode()
    table = pd.read_csv(out)
    assert len(table) == 22 and table["time_period"].max() == 2009  # 1988-2009, before 2010
    row = table[table["time_period"] == 2000].iloc[0]
    year = panel[(panel["time_period"] == 2000) & (panel["status"] == "value")]
    treated = year.loc[year["treated"], "obs_value"].mean()
    comparison = year.loc[~year["treated"], "obs_value"].mean()
    assert row["intervention_mean"] == pytest.approx(treated)
    assert row["comparison_mean"] == pytest.approx(comparison)
    assert row["difference"] == pytest.approx(treated - comparison)
    assert row["intervention_areas"] == 2


def test_a_panel_that_cannot_identify_an_effect_is_refused(built):
    done = emp("baseline", "--project", "Morocco-32", "--table", "panel", snapshots=built.snapshots)
    said = done.stderr.decode()
    assert done.returncode == 5, said
    assert "cannot identify an effect" in said and "no period after the start 2016-01-01" in said
    assert done.stdout == b""


def test_census_rows_carry_counts_weights_and_standard_errors(built):
    folder = Path(list_snapshots(built.snapshots, "MAR")[-1]["path"])
    frozen = pd.read_parquet(folder / "baseline_panel.parquet")
    rows = frozen[frozen["request_id"] == "Morocco-32"]
    assert set(rows["area_level"]) >= {"region", "province"}
    hidden = rows[rows["status"] == "suppressed"]
    assert len(hidden) and hidden["obs_value"].isna().all() and hidden["base_count"].isna().all()
    assert hidden["reason"].str.startswith("confidential").all()
    shares = rows[(rows["status"] == "value") & (rows["unit_measure"] == "PT")]
    assert len(shares) and shares["std_error"].notna().all()
    p, n, w = shares["obs_value"] / 100, shares["base_count"], shares["weight_sum"]
    expected = np.sqrt((1 - n / w) * p * (1 - p) / n) * 100
    assert np.allclose(shares["std_error"], expected)
    assert (shares["ci_low"] <= shares["obs_value"]).all()
    assert (shares["obs_value"] <= shares["ci_high"]).all()


def test_outputs_explain_themselves(built, tmp_path):
    out = tmp_path / "baseline.json"
    done = emp(
        "baseline",
        "--project",
        CASE,
        "--format",
        "json",
        "--output",
        str(out),
        snapshots=built.snapshots,
    )
    assert done.returncode == 0, done.stderr.decode()
    document = json.loads(out.read_text(encoding="utf-8"))
    assert document["request"]["id"] == CASE and document["request"]["start"] == "2010-01-01"
    snapshot = document["snapshot"]
    folder = built.snapshots / "PHL" / snapshot["version"]
    manifest = (folder / "manifest.json").read_bytes()
    assert snapshot["manifest_sha256"] == hashlib.sha256(manifest).hexdigest()
    columns = {d["column"]: d for d in document["dictionary"]}
    assert set(columns) == set(document["rows"][0])
    assert all(d["meaning"] for d in columns.values())
    assert columns["start_date"]["unit"] == "date" and "indicator_name" in columns
    csv = tmp_path / "baseline.csv"
    emp("baseline", "--project", CASE, "--output", str(csv), snapshots=built.snapshots)
    sidecar = pd.read_csv(f"{csv}.dictionary.csv")
    assert list(sidecar["column"]) == list(pd.read_csv(csv).columns)


def test_the_same_request_from_the_same_snapshot_gives_the_same_bytes(built, tmp_path):
    for fmt in ("csv", "json", "parquet"):
        outputs = []
        for attempt in (1, 2):
            out = tmp_path / f"{attempt}.{fmt}"
            done = emp(
                "baseline",
                "--project",
                CASE,
                "--table",
                "panel",
                "--format",
                fmt,
                "--output",
                str(out),
                snapshots=built.snapshots,
            )
            assert done.returncode == 0, done.stderr.decode()
            outputs.append(out.read_bytes())
        assert outputs[0] == outputs[1], fmt


def test_a_later_snapshot_lists_the_baseline_values_it_would_change(built, tmp_path):
    source = Path(list_snapshots(built.snapshots, "PHL")[-1]["path"])
    snapshots = tmp_path / "snapshots"
    old = snapshots / "PHL" / "20300101T000000Z"
    new = snapshots / "PHL" / "20300201T000000Z"
    for folder in (old, new):
        shutil.copytree(source, folder)
        for path in folder.rglob("*"):
            path.chmod(0o755 if path.is_dir() else 0o644)
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        manifest["version"] = folder.name
        (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    values = pd.read_parquet(new / "indicators.parquet")
    revised = (
        (values["series"] == "PHL_CFO_EMIGRANTS")
        & (values["ref_area"] == "PH-01")
        & (values["time_period"] == "2009")
        & (values["sex"] == "_T")
        & (values["age"] == "_T")
        & (values["counterpart_area"] == "_T")
        & (values["breakdown"] == "_T")
    )
    assert revised.sum() == 1
    before = float(values.loc[revised, "obs_value"].iloc[0])
    values.loc[revised, "obs_value"] = before + 100
    values.to_parquet(new / "indicators.parquet", index=False)
    reseal(new)
    request = ROOT / "sources" / "baselines" / f"{CASE}.yaml"
    done = emp(
        "baseline",
        "--request",
        str(request),
        "--compare",
        old.name,
        new.name,
        "--format",
        "json",
        snapshots=snapshots,
    )
    assert done.returncode == 0, done.stderr.decode()
    rows = json.loads(done.stdout)["rows"]
    assert len(rows) == 1
    (row,) = rows
    assert (row["ref_area"], row["time_period_new"], row["change"]) == ("PH-01", "2009", "revised")
    assert row["difference"] == pytest.approx(100)
