"""Disclosure control and honest census cells: secondary suppression defeats the differencing
attack, every key has a row, cells that cannot exist say so, and each series counts whom its
definition says."""

from __future__ import annotations

from collections import defaultdict

import duckdb
import numpy as np
import pandas as pd
import pytest

from indicators.census import census_indicators
from indicators.disclosure import Relations, derivable, protect
from sources.census.codebook import codebooks
from sources.census.generator import generate_census
from warehouse.census import ingest_census

MAR = codebooks()["mar_2014"]
DIMENSIONS = ("sex", "age", "migrant_status", "counterpart_area", "breakdown")
KEY = ("series", "ref_area", "counterpart_area", "sex", "age", "migrant_status", "breakdown")


@pytest.fixture(scope="module")
def census(tmp_path_factory):
    root = tmp_path_factory.mktemp("disclosure")
    paths = generate_census(MAR, 20_000, root / "source")
    con = duckdb.connect()
    ingest_census(con, MAR, paths["persons"], paths["members_abroad"], root / "census")
    yield con
    con.close()


def _parents(con) -> dict[str, str]:
    pairs = con.execute("SELECT DISTINCT province, region, country FROM census.persons").fetchall()
    parents = {province: region for province, region, _ in pairs}
    parents |= {region: country for _, region, country in pairs}
    return parents


def attack(published: pd.DataFrame, parents: dict[str, str]) -> dict[tuple, float]:
    """An attacker's differencing over the published counts: for every total and its parts
    (sex, age groups, migrant status, destinations, years of departure, provinces of a region,
    regions of the nation), one unknown is the total minus the rest; repeated until nothing
    more comes out. Written apart from the suppression code on purpose."""
    values = {tuple(r[k] for k in KEY): r["obs_value"] for r in published.to_dict("records")}
    relations = []
    for dimension in DIMENSIONS:
        position = KEY.index(dimension)
        groups = defaultdict(list)
        for key in values:
            if key[position] != "_T":
                groups[key[:position] + ("_T",) + key[position + 1 :]].append(key)
        relations += [(total, parts) for total, parts in groups.items() if total in values]
    groups = defaultdict(list)
    for key in values:
        if key[1] in parents:
            groups[(key[0], parents[key[1]], *key[2:])].append(key)
    relations += [(total, parts) for total, parts in groups.items() if total in values]
    recovered = {}
    progress = True
    while progress:
        progress = False
        for total, parts in relations:
            unknown = [k for k in (total, *parts) if np.isnan(values[k])]
            if len(unknown) != 1:
                continue
            known = sum(values[p] for p in parts if p not in unknown)
            cell = unknown[0]
            values[cell] = known if cell == total else values[total] - known
            recovered[cell] = values[cell]
            progress = True
    return recovered


def _counts(cells: pd.DataFrame) -> pd.DataFrame:
    return cells[(cells.unit_measure == "PS") & (cells.obs_status != "M")]


def test_no_suppressed_cell_can_be_recovered_by_differencing(census):
    parents = _parents(census)
    protected = _counts(census_indicators(census, threshold=10))
    assert protected.suppressed.sum() > 0 and (protected.suppression == "secondary").any()
    assert attack(protected, parents) == {}
    # the same attack breaks primary suppression alone: the test can fail
    exposed = _counts(census_indicators(census, threshold=10, secondary=False))
    broken = attack(exposed, parents)
    assert len(broken) > 50
    truth = _counts(census_indicators(census, threshold=1)).set_index(list(KEY))["obs_value"]
    sample = list(broken.items())[:20]
    assert all(value == pytest.approx(truth[key], abs=1e-6) for key, value in sample)


def test_every_key_has_a_row_and_impossible_cells_say_so(census):
    cells = census_indicators(census, threshold=10)
    regions = {
        r for (r,) in census.execute("SELECT DISTINCT region FROM census.persons").fetchall()
    }
    outmig = cells[cells.series == "CEN_OUTMIG_5Y"]
    assert set(outmig.ref_area) == regions
    assert len(outmig) == len(regions) * 3 * 4  # every region by sex and age group
    areas = cells[cells.series == "CEN_FB_STOCK"].groupby("ref_area").size()
    assert (areas == 12).all()  # 3 sexes x 4 age groups, zeros included
    under15 = cells[(cells.series == "CEN_LFPR") & (cells.age == "Y_LT15")]
    assert len(under15) and (under15.obs_status == "M").all()
    assert under15.obs_value.isna().all() and not under15.suppressed.any()
    assert under15.comment.str.contains("aged 15 and over").all()
    assert set(cells[cells.series == "CEN_TERTIARY"].age) == {
        "Y_GE25",
        "Y25T64",
        "Y_GE65",
        "Y_LT15",
    }
    assert set(cells[cells.series == "CEN_LFPR"].age) == {"Y_GE15", "Y15T64", "Y_GE65", "Y_LT15"}
    zero = cells[(cells.obs_value == 0) & (cells.unit_measure == "PS")]
    assert len(zero) and (zero.conf_status == "F").all() and (zero.obs_status == "A").all()


BASIS = {
    "CEN_FB_STOCK": "foreign_born",
    "CEN_FC_STOCK": "foreign_citizen",
    "CEN_FC_SHARE": "foreign_citizen",
    "CEN_RETURNEES": "returnee",
    "CEN_LIFETIME_INTERNAL": "internal_lifetime",
    "CEN_INMIG_5Y": "internal_5y",
    "CEN_HH_MEMBER_ABROAD": "household",
    "CEN_EMIGRANTS": "household_report",
    "CEN_LFPR": "foreign_born",
}


@pytest.fixture(scope="module")
def small_census(tmp_path_factory):
    """A census of 400 persons: small enough to count by hand, row by row."""
    root = tmp_path_factory.mktemp("small")
    paths = generate_census(MAR, 400, root / "source")
    con = duckdb.connect()
    ingest_census(con, MAR, paths["persons"], paths["members_abroad"], root / "census")
    persons = con.execute("SELECT * FROM census.persons").df()
    abroad = con.execute("SELECT * FROM census.members_abroad").df()
    yield con, persons, abroad
    con.close()


def _universes(p: pd.DataFrame, abroad: pd.DataFrame) -> dict[str, tuple[float, float | None]]:
    """Each series' numerator and denominator at the national total, one person at a time."""
    sums: dict[str, float] = defaultdict(float)
    for r in p.itertuples():
        home = r.country
        born_abroad = isinstance(r.birth_country, str) and r.birth_country != home
        native = r.birth_country == home
        adult = pd.notna(r.age) and r.age >= 15
        rules = {
            "all": True,
            "fb": born_abroad,
            "fc": isinstance(r.citizenship, str) and r.citizenship != home,
            "recent": born_abroad and pd.notna(r.arrival_year) and r.arrival_year > 2014 - 5,
            "returnee": native
            and isinstance(r.residence_5y_country, str)
            and r.residence_5y_country != home,
            "lifetime": native and isinstance(r.birth_region, str) and r.birth_region != r.region,
            "pop15": adult and isinstance(r.activity, str),
            "active": adult and r.activity in ("employed", "unemployed"),
            "employed": adult and r.activity == "employed",
            "adult25": pd.notna(r.age) and r.age >= 25,
            "tertiary": pd.notna(r.age)
            and r.age >= 25
            and pd.notna(r.education)
            and r.education >= 5,
            "heads": bool(r.is_head),
            "heads_abroad": bool(r.is_head) and r.household_id in set(abroad.household_id),
        }
        for name, counted in rules.items():
            if counted:
                sums[name] += r.weight
    mean_weight = p.weight.sum() / len(p)
    return {
        "CEN_FB_STOCK": (sums["fb"], None),
        "CEN_FB_SHARE": (sums["fb"], sums["all"]),
        "CEN_FC_STOCK": (sums["fc"], None),
        "CEN_RECENT_IMM": (sums["recent"], None),
        "CEN_RETURNEES": (sums["returnee"], None),
        "CEN_LIFETIME_INTERNAL": (sums["lifetime"], None),
        "CEN_LFPR": (sums["active"], sums["pop15"]),
        "CEN_EMP_RATE": (sums["employed"], sums["pop15"]),
        "CEN_TERTIARY": (sums["tertiary"], sums["adult25"]),
        "CEN_HH_MEMBER_ABROAD": (sums["heads_abroad"], sums["heads"]),
        "CEN_EMIGRANTS": (len(abroad) * mean_weight, None),
    }


def test_each_census_series_counts_whom_its_definition_says(small_census):
    con, persons, abroad = small_census
    cells = census_indicators(con, threshold=1)
    national = cells[
        (cells.ref_area == "MAR")
        & (cells.sex == "_T")
        & (cells.migrant_status == "_T")
        & (cells.counterpart_area == "_T")
        & (cells.breakdown == "_T")
        & cells.age.isin(["_T", "Y_GE15", "Y_GE25"])
    ].set_index("series")
    universes = _universes(persons, abroad)
    assert sum(numerator > 0 for numerator, _ in universes.values()) >= 9  # not all zeros
    for series, (numerator, denominator) in universes.items():
        expected = numerator if denominator is None else 100 * numerator / denominator
        assert national.loc[series, "obs_value"] == pytest.approx(expected), series
    assert national.loc["CEN_LFPR", "age"] == "Y_GE15"
    assert national.loc["CEN_TERTIARY", "age"] == "Y_GE25"
    assert national.loc["CEN_FB_STOCK", "age"] == "_T"
    for series, basis in BASIS.items():
        assert national.loc[series, "basis"] == basis, series


def test_the_linear_audit_finds_what_the_singleton_rule_misses():
    """A 4 x 4 table with its row and column totals. Hiding two 2 x 2 blocks (rows 1-2 by
    columns 1-2, rows 3-4 by columns 3-4) and the cell joining them (row 2, column 3) leaves
    two or more unknowns in every row and column, so the singleton rule is satisfied; but rows
    1 and 2 minus columns 1 and 2 leave that joining cell alone: the audit finds it, and
    protection adds cells until nothing is derivable."""
    cell = {(i, j): 4 * i + j for i in range(4) for j in range(4)}
    row_total = {i: 16 + i for i in range(4)}
    col_total = {j: 20 + j for j in range(4)}
    relations = Relations.build(
        24,
        [(row_total[i], [cell[i, j] for j in range(4)]) for i in range(4)]
        + [(col_total[j], [cell[i, j] for i in range(4)]) for j in range(4)],
    )
    hidden = np.zeros(24, dtype=bool)
    for i, j in [(0, 0), (0, 1), (1, 0), (1, 1), (2, 2), (2, 3), (3, 2), (3, 3), (1, 2)]:
        hidden[cell[i, j]] = True
    lines = abs(relations.matrix) @ hidden.astype(float)
    assert set(lines[lines > 0]) >= {2.0} and 1.0 not in set(lines)  # singleton rule holds
    assert list(derivable(relations, hidden)) == [cell[1, 2]]
    hidden[cell[1, 2]] = False
    assert len(derivable(relations, hidden)) == 0  # the two blocks alone are safe
    values = np.arange(24, dtype=float) + 5
    first = np.zeros(24, dtype=bool)
    first[cell[0, 0]] = True
    status = protect(relations, first, values)
    assert (status > 0).sum() >= 4 and len(derivable(relations, status > 0)) == 0


def test_the_audit_runs_blas_on_one_thread(monkeypatch):
    """Small dense algebra on a shared machine: one BLAS thread in the audit, whatever the
    machine's default (its time must not grow with the load of the other cores)."""
    from threadpoolctl import threadpool_info

    seen: list[int] = []
    eigh = np.linalg.eigh

    def recorded(matrix):
        seen.extend(p["num_threads"] for p in threadpool_info() if p["user_api"] == "blas")
        return eigh(matrix)

    monkeypatch.setattr(np.linalg, "eigh", recorded)
    relations = Relations.build(3, [(2, [0, 1])])
    hidden = np.array([True, True, False])
    assert list(derivable(relations, hidden)) == []
    assert seen and set(seen) == {1}


def _two_editions(census, carry: bool) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The same census published at threshold 10, then at 11 (with the first edition's
    confidential cells carried forward, or not)."""
    confidential: list[pd.DataFrame] = []
    first = census_indicators(census, threshold=10, confidential=confidential)
    carried = confidential[0] if carry else None
    second = census_indicators(census, threshold=11, carried=carried)
    return _counts(first), _counts(second)


def _combined(first: pd.DataFrame, second: pd.DataFrame) -> pd.DataFrame:
    """What an attacker holding both editions knows: a value wherever either published it."""
    merged = first.set_index(list(KEY))[["obs_value"]].join(
        second.set_index(list(KEY))[["obs_value"]], rsuffix="_2"
    )
    merged["obs_value"] = merged["obs_value"].fillna(merged["obs_value_2"])
    return merged[["obs_value"]].reset_index()


def test_no_cell_confidential_in_an_edition_is_recovered_from_two_editions(census):
    parents = _parents(census)
    first, second = _two_editions(census, carry=True)
    hidden_first = set(map(tuple, first[first.suppressed][list(KEY)].to_numpy()))
    recovered = attack(_combined(first, second), parents)
    assert not hidden_first & set(recovered)
    # every cell hidden in the first edition stays hidden in the second
    hidden_second = set(map(tuple, second[second.suppressed][list(KEY)].to_numpy()))
    assert hidden_first <= hidden_second
    # without carrying the first edition's pattern, the attack across editions succeeds
    first, second = _two_editions(census, carry=False)
    hidden = set(map(tuple, first[first.suppressed][list(KEY)].to_numpy()))
    broken = set(attack(_combined(first, second), parents)) & hidden
    assert broken
