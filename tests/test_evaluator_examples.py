"""The evaluator's worked example (docs/evaluator.md) run as written on a real refresh's
snapshots, each figure it prints checked against a computation written here: the event-study
coefficients against differences of group means, the randomisation-inference p-value against an
exhaustive count over every assignment, and the synthetic control's weights and fit."""

from __future__ import annotations

import re
import subprocess
from itertools import combinations
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGE = ROOT / "docs" / "evaluator.md"


def python_blocks(page: Path) -> list[str]:
    return re.findall(r"^```python\n(.*?)^```", page.read_text(encoding="utf-8"), re.S | re.M)


def untracked() -> set[str]:
    done = subprocess.run(
        ["git", "status", "--porcelain", "--untracked-files=all"],
        capture_output=True,
        text=True,
        cwd=ROOT,
    )
    return set(done.stdout.splitlines())


@pytest.fixture(scope="module")
def example(built, tmp_path_factory) -> dict:
    """Every Python block of the page, in order, in one namespace, from a folder outside the
    repository, against the session's snapshots."""
    monkeypatch = pytest.MonkeyPatch()
    monkeypatch.setenv("EMP_SNAPSHOTS", str(built.snapshots))
    monkeypatch.chdir(tmp_path_factory.mktemp("evaluator"))
    before = untracked()
    namespace: dict = {"__name__": "__evaluator_example__"}
    try:
        for block in python_blocks(PAGE):
            exec(compile(block, str(PAGE), "exec"), namespace)
    finally:
        monkeypatch.undo()
    namespace["_repository_changes"] = untracked() - before
    return namespace


def test_the_page_has_the_examples_the_evaluator_needs():
    text = "\n".join(python_blocks(PAGE))
    for needle in ("i(event_time, ref=-1)", "wildboottest", "combinations", "Dataprep"):
        assert needle in text


def test_the_examples_write_nothing_into_the_repository(example):
    assert example["_repository_changes"] == set()
    assert ROOT not in Path(example["work"]).resolve().parents
    assert (Path(example["work"]) / "panel.csv").exists()


def test_the_panel_is_the_balanced_fifteen_regions_with_two_treated(example):
    rows = example["rows"]
    assert rows["ref_area"].nunique() == 15 and len(rows) == 15 * 33
    assert sorted(rows.loc[rows["treated"], "ref_area"].unique()) == ["PH-01", "PH-03"]
    # event time: 0 in 2010, the first year after the 1 January 2010 start
    treated = rows[rows["treated"]]
    assert (treated["event_time"] == treated["time_period"] - 2010).all()
    assert (treated["first_treated"] == 2010).all() and (
        rows.loc[~rows["treated"], "first_treated"] == 0
    ).all()


def test_event_study_coefficients_are_the_changes_of_the_gap_between_group_means(example):
    rows = example["rows"]
    means = rows.groupby(["time_period", "treated"])["obs_value"].mean().unstack()
    gap = means[True] - means[False]
    coefficients = example["study"].coef()
    assert len(coefficients) == 33 - 1
    for year in range(1988, 2021):
        if year == 2009:
            continue
        expected = gap[year] - gap[2009]
        assert coefficients[f"event_time::{year - 2010}"] == pytest.approx(expected, rel=1e-8)


def test_the_did_estimate_and_its_bootstrap(example):
    rows = example["rows"]
    values = rows.pivot(index="ref_area", columns="time_period", values="obs_value")
    treated = values.index.isin(["PH-01", "PH-03"])
    post = values.columns >= 2010
    hand = (
        values.loc[treated, post].to_numpy().mean() - values.loc[treated, ~post].to_numpy().mean()
    ) - (
        values.loc[~treated, post].to_numpy().mean() - values.loc[~treated, ~post].to_numpy().mean()
    )
    assert example["did"].coef()["treated_post"] == pytest.approx(hand, rel=1e-9)
    assert hand == pytest.approx(1433.74, abs=0.01)
    # two treated clusters: the bootstrap is far less sure than the cluster-robust errors
    assert example["did"].pvalue()["treated_post"] < 0.05 < example["bootstrap"]["Pr(>|t|)"] <= 1


def test_the_randomisation_p_value_counts_every_assignment(example):
    rows = example["rows"]
    values = rows.pivot(index="ref_area", columns="time_period", values="obs_value")
    change = values.loc[:, values.columns >= 2010].mean(axis=1) - values.loc[
        :, values.columns < 2010
    ].mean(axis=1)  # balanced: group means of changes are changes of group means
    areas = list(values.index)
    estimates = []
    for pair in combinations(range(len(areas)), 2):
        inside = np.zeros(len(areas), dtype=bool)
        inside[list(pair)] = True
        estimates.append(change[inside].mean() - change[~inside].mean())
    observed = estimates[list(combinations(areas, 2)).index(("PH-01", "PH-03"))]
    assert len(estimates) == 105
    at_least = sum(abs(e) >= abs(observed) - 1e-9 for e in estimates)
    assert example["ri_p_value"] == pytest.approx(at_least / 105)
    assert len(example["placebos"]) == 105


def test_the_synthetic_control_weights_sum_to_one_and_refit_the_same(example):
    from pysyncon import Synth

    weights = np.asarray(example["synth"].W)
    assert weights.sum() == pytest.approx(1, abs=1e-6) and (weights >= -1e-9).all()
    again = Synth()
    again.fit(dataprep=example["dataprep"], optim_initial="ols")
    assert np.allclose(again.W, weights) and again.mspe() == pytest.approx(example["synth"].mspe())
    donors = example["donors"]
    pool = set(donors.loc[donors["intervention_area"] == "PH-01", "ref_area"])
    # the other treated region and the two created in 2002 are no donors of Ilocos
    assert len(pool) == 1 + 13 and not pool & {"PH-03", "PH-40", "PH-41"}


def test_the_panel_dictionary_counts_clusters_and_says_there_is_no_population(example):
    dictionary = pd.read_csv(Path(example["work"]) / "panel.csv.dictionary.csv")
    meaning = dict(zip(dictionary["column"], dictionary["meaning"], strict=True))
    assert "2 of 17" in meaning["treated"] and "cluster-robust" in meaning["treated"]
    assert "no population" in meaning["rate_per_1000"]
    assert example["panel"]["rate_per_1000"].isna().all()
