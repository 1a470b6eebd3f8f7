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


def _frozen(built, country: str, name: str) -> pd.DataFrame:
    folder = Path(list_snapshots(built.snapshots, country)[-1]["path"])
    return pd.read_parquet(folder / name)


def test_census_counts_carry_a_rate_per_1000_residents_of_the_census_year(built):
    rows = _frozen(built, "MAR", "baseline_panel.parquet")
    rows = rows[rows["request_id"] == "Morocco-32"]
    rated = rows[rows["rate_per_1000"].notna()]
    assert (
        len(rated)
        and set(rated["unit_measure"]) == {"PS"}
        and set(rated["time_period"]) == {"2014"}
    )
    assert rated["population_source"].str.contains("census", case=False).all()
    assert np.allclose(rated["rate_per_1000"], rated["obs_value"] / rated["population"] * 1000)
    # the population is the weighted usual residents the census's shares of all residents divide
    # by (foreign-born, foreign citizens, net internal migration): the same for each of them
    values = _frozen(built, "MAR", "indicators.parquet")
    totals = values[
        values["series"].isin(["CEN_FB_SHARE", "CEN_FC_SHARE", "CEN_NETMIG_RATE"])
        & values["sex"].eq("_T")
        & values["migrant_status"].eq("_T")
        & values["age"].isin(["_T", "Y_GE0"])
        & values["conf_status"].ne("C")
        & values["weight_sum"].notna()
    ]
    residents = totals.groupby("ref_area")["weight_sum"].agg(["min", "max"])
    assert np.allclose(residents["min"], residents["max"])
    for area, population in rated.groupby("ref_area")["population"].first().items():
        assert population == pytest.approx(residents.loc[area, "min"])
    shares = rows[rows["unit_measure"] == "PT"]
    assert shares["rate_per_1000"].isna().all()  # a share is not turned into a rate


def test_a_country_row_divides_by_the_world_banks_population(built):
    import csv

    import duckdb

    from sources.data_home import public_data_dir
    from warehouse.baselines import area_populations

    with duckdb.connect(str(built.database), read_only=True) as con:
        populations = area_populations(con)
    with (public_data_dir() / "wdi" / "population.csv").open(encoding="utf-8-sig") as handle:
        published = {
            (r["Country Code"], r["Year"]): float(r["Value"])
            for r in csv.DictReader(handle)
            if r["Country Code"] == "MAR" and r["Value"]
        }
    row = populations[(populations["ref_area"] == "MAR") & (populations["time_period"] == "2019")]
    assert row["population"].iloc[0] == pytest.approx(published[("MAR", "2019")])
    assert "SP.POP.TOTL" in row["population_source"].iloc[0]


def test_the_baseline_gives_standard_errors_or_says_there_is_no_sampling_error(built):
    table = _frozen(built, "MAR", "baselines.parquet")
    shares = table[(table["status"] == "value") & (table["unit_measure"] == "PT")]
    census = shares[
        (shares["indicator_id"] == "CEN_HOUSEHOLDS_MEMBER_ABROAD") & (shares["role"] != "national")
    ]
    assert len(census) and census["std_error"].notna().all()
    panel = _frozen(built, "MAR", "baseline_panel.parquet")
    same = census.merge(
        panel[
            [
                "request_id",
                "indicator_id",
                "series",
                "ref_area",
                "sex",
                "age",
                "time_period",
                "std_error",
                "ci_low",
                "ci_high",
            ]
        ],
        on=["request_id", "indicator_id", "series", "ref_area", "sex", "age", "time_period"],
        suffixes=("", "_panel"),
    )
    assert len(same) == len(census)
    for column in ("std_error", "ci_low", "ci_high"):
        assert np.allclose(same[column], same[f"{column}_panel"])
    full = census["std_error"] == 0  # every record weighs 1: a full count, no sampling error
    assert (census.loc[full, "uncertainty"] == "full census count, no sampling error").all()
    assert census.loc[~full, "uncertainty"].str.startswith("census sample").all() and (~full).any()
    phl = _frozen(built, "PHL", "baselines.parquet")
    counts = phl[phl["status"] == "value"]
    assert (counts["uncertainty"] == "administrative count, no sampling error").all()
    assert counts["std_error"].isna().all()


def test_emp_baseline_counts_clusters_and_warns_when_they_are_few(built, tmp_path):
    out = tmp_path / "panel.json"
    done = emp(
        "baseline",
        "--project",
        CASE,
        "--table",
        "panel",
        "--format",
        "json",
        "--output",
        str(out),
        snapshots=built.snapshots,
    )
    said = " ".join(done.stderr.decode().split())
    assert done.returncode == 0, said
    assert "17 areas (clusters), 2 of them treated" in said and "wild cluster bootstrap" in said
    document = json.loads(out.read_text(encoding="utf-8"))
    (design,) = document["design"]
    assert (design["clusters"], design["treated_clusters"], design["few_clusters"]) == (17, 2, True)
    columns = {d["column"]: d["meaning"] for d in document["dictionary"]}
    assert "2 of 17" in columns["treated"]
    assert {"event_time", "first_treated", "synthetic", "rate_per_1000"} <= set(document["rows"][0])


def test_donor_tables_carry_census_shares_as_predictors(built, tmp_path):
    out = tmp_path / "donors.csv"
    done = emp(
        "baseline",
        "--project",
        "Morocco-32",
        "--table",
        "donors",
        "--output",
        str(out),
        snapshots=built.snapshots,
    )
    assert done.returncode == 0, done.stderr.decode()
    donors = pd.read_csv(out)
    predictors = [c for c in donors.columns if c.startswith("predictor_")]
    assert predictors and donors[predictors].notna().any().all()
    assert set(donors["role"]) == {"intervention", "donor"}
    for (_, area), table in donors.groupby(["series", "intervention_area"]):
        assert table["outcome"].notna().all()
        # a predictor is given for every area of a table or for none (Synth needs it whole)
        assert all(table[c].notna().all() or table[c].isna().all() for c in predictors)
        periods = table.groupby("ref_area")["time_period"].agg(frozenset)
        assert periods.nunique() == 1  # every donor has every period of its intervention area
        assert (table.loc[table["role"] == "intervention", "ref_area"] == area).all()
    values = _frozen(built, "MAR", "indicators.parquet")
    first = donors[donors[predictors[0]].notna()].iloc[0]
    series = predictors[0].removeprefix("predictor_")
    published = values[
        (values["series"] == series)
        & (values["ref_area"] == first["ref_area"])
        & values["sex"].eq("_T")
        & values["migrant_status"].eq("_T")
        & values["age"].isin(["_T", "Y_GE15", "Y_GE25"])
    ]["obs_value"].dropna()
    assert first[predictors[0]] == pytest.approx(published.iloc[-1])


@pytest.mark.parametrize(
    ("start", "periods", "first", "event_times"),
    [
        ("2010-01-01", ["2009", "2010", "2011"], "2010", [-1, 0, 1]),
        ("2010-12-31", ["2010", "2011"], "2011", [-1, 0]),  # 2010 ends on the start day
        ("2010-02-15", ["2009-Q4", "2010-Q1", "2010-Q2"], "2010-Q1", [-1, 0, 1]),
        ("2010-03-31", ["2010-Q1", "2010-Q2"], "2010-Q2", [-1, 0]),
        ("2016-07-01", ["2016-06", "2016-07", "2017-01"], "2016-07", [-1, 0, 6]),
    ],
)
def test_event_time_counts_periods_from_the_first_one_after_the_start(
    start, periods, first, event_times
):
    from datetime import date

    from indicators.evaluation import add_event_time

    panel = pd.DataFrame(
        {"time_period": periods * 2, "treated": [True] * len(periods) + [False] * len(periods)}
    )
    out = add_event_time(panel, date.fromisoformat(start))
    treated = out[out["treated"]]
    assert set(treated["first_treated"]) == {first}
    assert list(treated["event_time"]) == event_times
    never = out[~out["treated"]]
    assert set(never["first_treated"]) == {"0"} and never["event_time"].isna().all()
