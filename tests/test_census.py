"""Census: codebooks, the seeded generator, ingestion through DuckDB in every format, and
disclosure control."""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from indicators.census import age_as_total, census_indicators
from sources.census.codebook import CodebookError, codebooks, load_codebook
from sources.census.generator import generate_census
from warehouse.census import ingest_census

MAR = codebooks()["mar_2014"]
MDA = codebooks()["mda_2014"]


@pytest.fixture(scope="module")
def census(tmp_path_factory):
    """20,000 synthetic Moroccan persons, ingested."""
    root = tmp_path_factory.mktemp("census")
    paths = generate_census(MAR, 20_000, root / "source")
    con = duckdb.connect()
    load = ingest_census(con, MAR, paths["persons"], paths["members_abroad"], root / "census")
    yield con, load, root, paths
    con.close()


@pytest.fixture(scope="module")
def unsuppressed(census):
    """Every census cell with no suppression (threshold 1), computed once for the module."""
    return census_indicators(census[0], threshold=1)


def test_codebooks_map_every_canonical_variable():
    assert set(codebooks()) == {"mar_2014", "mda_2014"}
    assert MAR.persons["birth_country"].codes == "m49"
    assert MAR.persons_codes("province")["604"].startswith("MA-")
    assert MDA.persons["birth_country"].codes == "iso3"


def test_a_codebook_without_a_variable_is_refused(tmp_path):
    text = MAR.model_dump_json()
    import json

    data = json.loads(text)
    del data["persons"]["citizenship"]
    data["persons"]["sex"]["codes"] = "sexes"
    path = tmp_path / "bad.yaml"
    import yaml

    path.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(CodebookError) as err:
        load_codebook(path)
    assert "no source variable for ['citizenship']" in str(err.value)
    assert "code list 'sexes' is not declared" in str(err.value)


def test_generator_is_seeded_and_calibrated(census, tmp_path):
    con, load, root, paths = census
    again = generate_census(MAR, 20_000, tmp_path)
    first = duckdb.sql(f"SELECT * FROM '{paths['persons']}' ORDER BY ID_IND").df()
    second = duckdb.sql(f"SELECT * FROM '{again['persons']}' ORDER BY ID_IND").df()
    assert first.equals(second)
    assert load.persons == 20_000
    share = con.execute(
        "SELECT avg((birth_country <> country)::INT) FROM census.persons"
    ).fetchall()[0][0]
    assert 0.001 < share < 0.006  # UN DESA 2015: 88,511 immigrants in 34.8 million, 0.25 %
    regions = con.execute("SELECT count(DISTINCT region) FROM census.persons").fetchall()[0][0]
    assert regions == 12


def test_parquet_partitioned_by_country_and_round(census):
    _, _, root, _ = census
    files = list((root / "census" / "persons").glob("country=MAR/census_round=2014/*.parquet"))
    assert files


@pytest.mark.parametrize("fmt", ["csv", "dta", "sav"])
def test_every_census_format(census, tmp_path, fmt):
    _, _, _, paths = census
    frame = duckdb.sql(f"SELECT * FROM '{paths['persons']}' LIMIT 500").df()
    path = tmp_path / f"persons.{fmt}"
    if fmt == "csv":
        frame.to_csv(path, index=False)
    elif fmt == "dta":
        frame.to_stata(path, write_index=False)
    else:
        import pyreadstat

        pyreadstat.write_sav(frame, str(path))
    con = duckdb.connect()
    load = ingest_census(con, MAR, path, None, tmp_path / "out")
    assert load.persons == 500
    sexes = con.execute("SELECT DISTINCT sex FROM census.persons ORDER BY 1").fetchall()
    assert sexes == [("F",), ("M",)]


def test_unknown_code_and_missing_variable_are_named(census, tmp_path):
    _, _, _, paths = census
    frame = duckdb.sql(f"SELECT * FROM '{paths['persons']}' LIMIT 100").df()
    frame.loc[3, "SEXE"] = 9
    bad = tmp_path / "bad.parquet"
    frame.to_parquet(bad)
    with pytest.raises(
        CodebookError,
        match=r"variable SEXE \(sex\) has 1 row\(s\) with codes not "
        r"in codebook mar_2014, e.g. '9'",
    ):
        ingest_census(duckdb.connect(), MAR, bad, None, tmp_path / "out")
    frame.drop(columns=["REGION_NAIS"]).to_parquet(bad)
    with pytest.raises(
        CodebookError,
        match=r"variables missing for codebook mar_2014: "
        r"\['REGION_NAIS \(birth_region\)'\]",
    ):
        ingest_census(duckdb.connect(), MAR, bad, None, tmp_path / "out")


def test_no_published_cell_breaks_the_disclosure_rule(census):
    con, _, _, _ = census
    cells = census_indicators(con, threshold=10)
    primary = cells[cells.suppression == "primary"]
    assert len(primary) > 0 and primary.obs_value.isna().all()
    hidden = cells[cells.suppressed]
    # nothing published beside a confidential cell gives it away: not its record counts either
    assert hidden.n_unweighted.isna().all() and hidden.base_count.isna().all()
    small = cells[cells.n_unweighted.notna() & (cells.n_unweighted > 0)]
    small = small[small.n_unweighted < 10]
    assert small.obs_value.isna().all() and (small.obs_status == "M").all()
    shown = cells[cells.obs_value.notna()]
    # a published count rests on none or at least 10 records; a rate on at least 10
    assert ((shown.n_unweighted == 0) | (shown.n_unweighted >= 10)).all()
    assert (shown[shown.unit_measure != "PS"].base_count >= 10).all()
    assert set(cells.loc[cells.suppressed, "conf_status"]) == {"C"}
    assert set(cells.loc[cells.suppressed, "suppression"]) == {"primary", "secondary"}
    assert not {"person_id", "household_id", "weight"} & set(cells.columns)
    national = cells[
        (cells.series == "CEN_FB_STOCK")
        & (cells.ref_area == "MAR")
        & (cells.sex == "_T")
        & (cells.age == "_T")
    ].obs_value.item()
    direct = con.execute(
        "SELECT sum(weight) FROM census.persons WHERE birth_country <> country"
    ).fetchall()[0][0]
    assert national == pytest.approx(direct)
    levels = set(cells[cells.series == "CEN_FB_SHARE"].ref_area)
    assert "MAR" in levels and "MA-06" in levels and any(len(c) == 6 for c in levels)


def test_threshold_is_configurable(census, unsuppressed):
    con, _, _, _ = census
    strict = census_indicators(con, threshold=50)
    loose = unsuppressed
    assert strict.suppressed.sum() > loose.suppressed.sum()
    assert pd.api.types.is_bool_dtype(strict.suppressed)


#: Each series at one cell, written by hand over the canonical columns (not the stored profile).
BY_HAND = {
    ("CEN_RECENT_IMM", "MAR", "_T"): "sum(weight) FILTER (WHERE birth_country <> 'MAR' "
    "AND arrival_year > 2009)",
    ("CEN_RETURNEES", "MAR", "_T"): "sum(weight) FILTER (WHERE birth_country = 'MAR' "
    "AND residence_5y_country <> 'MAR')",
    ("CEN_LIFETIME_INTERNAL", "MAR", "_T"): "sum(weight) FILTER (WHERE birth_country = 'MAR' "
    "AND birth_region <> region)",
    ("CEN_INMIG_5Y", "MA-06", "_T"): "sum(weight) FILTER (WHERE region = 'MA-06' "
    "AND residence_5y_country = 'MAR' AND residence_5y_region <> 'MA-06')",
    ("CEN_OUTMIG_5Y", "MA-06", "_T"): "sum(weight) FILTER (WHERE region <> 'MA-06' "
    "AND residence_5y_country = 'MAR' AND residence_5y_region = 'MA-06')",
    ("CEN_LFPR", "MAR", "MS_MIGRANT"): "100 * sum(weight) FILTER (WHERE age >= 15 AND "
    "activity IN ('employed', 'unemployed') AND birth_country <> 'MAR') / sum(weight) FILTER "
    "(WHERE age >= 15 AND activity IS NOT NULL AND birth_country <> 'MAR')",
    ("CEN_UNEMP_RATE", "MAR", "MS_NOMIGRANT"): "100 * sum(weight) FILTER (WHERE age >= 15 AND "
    "activity = 'unemployed' AND birth_country = 'MAR') / sum(weight) FILTER (WHERE age >= 15 "
    "AND activity IN ('employed', 'unemployed') AND birth_country = 'MAR')",
    ("CEN_TERTIARY", "MAR", "MS_NOMIGRANT"): "100 * sum(weight) FILTER (WHERE age >= 25 AND "
    "education >= 5 AND birth_country = 'MAR') / sum(weight) FILTER (WHERE age >= 25 "
    "AND birth_country = 'MAR')",
    ("CEN_HH_MEMBER_ABROAD", "MAR", "_T"): "100 * sum(weight) FILTER (WHERE is_head AND "
    "household_id IN (SELECT household_id FROM census.members_abroad)) "
    "/ sum(weight) FILTER (WHERE is_head)",
}


@pytest.mark.parametrize("cell", list(BY_HAND), ids=lambda c: "-".join(c))
def test_indicators_match_a_hand_written_query(census, unsuppressed, cell):
    con, _, _, _ = census
    cells = unsuppressed
    series, area, status = cell
    value = cells[
        (cells.series == series)
        & (cells.ref_area == area)
        & (cells.migrant_status == status)
        & (cells.sex == "_T")
        & (age_as_total(cells.age) == "_T")
    ].obs_value.item()
    direct = con.execute(f"SELECT {BY_HAND[cell]} FROM census.persons").fetchall()[0][0]
    assert direct > 0 and value == pytest.approx(direct)


def test_stored_profile_decodes_to_the_canonical_facts(census):
    con, _, _, _ = census
    wrong = con.execute(
        """
        SELECT count(*) FILTER (WHERE foreign_born IS DISTINCT FROM
                                      coalesce(birth_country <> country, FALSE)),
               count(*) FILTER (WHERE age_group IS DISTINCT FROM CASE WHEN age < 15 THEN 'Y_LT15'
                                      WHEN age < 65 THEN 'Y15T64' ELSE 'Y_GE65' END),
               count(*) FILTER (WHERE activity_15 IS DISTINCT FROM
                                      CASE WHEN age >= 15 THEN activity END),
               count(*) FILTER (WHERE inter_regional_mover_5y <> (origin_region IS NOT NULL))
        FROM census.persons
        """
    ).fetchall()[0]
    assert wrong == (0, 0, 0, 0)


def test_a_province_in_two_regions_stops_the_load(census, tmp_path):
    _, _, _, paths = census
    frame = duckdb.sql(f"SELECT * FROM '{paths['persons']}' LIMIT 200").df()
    province = frame.loc[0, "PROVINCE"]
    other = next(r for r in frame["REGION"] if r != frame.loc[0, "REGION"])
    frame.loc[0, "REGION"] = other
    bad = tmp_path / "split.parquet"
    frame.to_parquet(bad)
    with pytest.raises(CodebookError, match=r"provinces in more than one region"):
        ingest_census(duckdb.connect(), MAR, bad, None, tmp_path / "out")
    assert not list((tmp_path / "out").glob("persons/**/*.parquet"))  # nothing half-written
    assert province is not None
