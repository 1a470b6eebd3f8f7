"""Census indicators on two engines: the same SQL on DuckDB and on Spark (local mode) gives the
same cells, and the Spark job runs under Dagster Pipes and reports back to the asset."""

from __future__ import annotations

import shutil

import dagster as dg
import duckdb
import pandas as pd
import pytest

from indicators.census import census_indicators
from indicators.census_checks import cell_differences
from indicators.census_engines import SparkEngine, spark_session, spark_sql
from indicators.census_queries import measures_sql
from sources.census.codebook import codebooks
from sources.census.generator import generate_census
from warehouse.census import census_partitions, ingest_census

needs_java = pytest.mark.skipif(
    shutil.which("java") is None,
    reason="the Spark tests need Java 17 or later (no `java` on the PATH); DuckDB is unaffected",
)
pytestmark = [pytest.mark.spark, needs_java]


@pytest.fixture(scope="module")
def censuses(tmp_path_factory):
    """Two synthetic censuses (Morocco and Moldova, 20,000 persons each), ingested."""
    root = tmp_path_factory.mktemp("engines")
    con = duckdb.connect()
    for codebook in (codebooks()["mar_2014"], codebooks()["mda_2014"]):
        paths = generate_census(codebook, 20_000, root / "source" / codebook.id)
        ingest_census(con, codebook, paths["persons"], paths["members_abroad"], root / "census")
    yield con, root / "census"
    con.close()


@pytest.fixture(scope="module")
def spark():
    session = spark_session("local[2]")
    yield session
    session.stop()


def assert_same_cells(left: pd.DataFrame, right: pd.DataFrame) -> None:
    """Same keys; counts and suppression identical; values within 1e-9 relative."""
    assert cell_differences(left, right) == []
    assert len(left) > 10_000


def test_the_census_passes_are_one_text_transpiled_for_spark(censuses):
    con, census_dir = censuses
    sql = measures_sql(census_partitions(census_dir), {"all|_T|n": "sum(n)"})
    spark_text = spark_sql(sql)
    assert "GROUPING SETS" in sql and "GROUPING SETS" in spark_text
    assert spark_text != sql  # Spark's own dialect: shifts, quoting
    assert "SHIFTRIGHT" in spark_text.upper() and '"' not in spark_text


def test_duckdb_and_spark_give_the_same_cells_and_the_same_suppression(censuses, spark):
    con, census_dir = censuses
    on_duckdb = census_indicators(con, threshold=10)
    on_spark = census_indicators(SparkEngine(spark, census_partitions(census_dir)), threshold=10)
    assert on_duckdb["suppression"].eq("secondary").sum() > 100  # secondary suppression ran
    assert_same_cells(on_duckdb, on_spark)
    changed = on_spark.copy()
    changed.loc[changed["n_unweighted"].notna().idxmax(), "n_unweighted"] += 1
    # the comparison does see a change of one record
    assert cell_differences(on_duckdb, changed) == ["n_unweighted: record counts differ"]
    assert on_duckdb.attrs["disclosure"] == on_spark.attrs["disclosure"]
    # a pinned fact of the data, not of either engine: the national foreign-born stock is the
    # weighted count of persons born abroad, straight from the Parquet
    national = on_spark[
        (on_spark.series == "CEN_FB_STOCK")
        & (on_spark.ref_area == "MAR")
        & (on_spark.sex == "_T")
        & (on_spark.age == "_T")
    ].obs_value.item()
    direct = con.execute(
        "SELECT sum(weight) FROM census.persons WHERE country = 'MAR' AND birth_country <> 'MAR'"
    ).fetchall()[0][0]
    assert national == pytest.approx(direct, rel=1e-9)


def test_spark_reads_only_the_censuses_asked_for(censuses, spark):
    con, census_dir = censuses
    wanted = census_partitions(census_dir, {("MDA", 2014)})
    assert [p.country for p in wanted] == ["MDA"]
    on_spark = census_indicators(SparkEngine(spark, wanted), threshold=10)
    assert set(on_spark["country"]) == {"MDA"}
    on_duckdb = census_indicators(con, threshold=10, partitions=wanted)
    assert_same_cells(on_duckdb, on_spark)


@pytest.mark.slow
def test_the_census_asset_runs_spark_through_dagster_pipes(tmp_path):
    from pipelines.assets import census_microdata, core_census_indicators
    from tests.conftest import warehouse_resource

    results = {}
    for engine in ("duckdb", "spark"):
        root = tmp_path / engine
        warehouse = warehouse_resource(root, census_engine=engine)
        result = dg.materialize(
            [census_microdata, core_census_indicators], resources={"warehouse": warehouse}
        )
        assert result.success
        [materialization] = [
            m
            for m in result.asset_materializations_for_node("core__census_indicators")
            if m.asset_key == dg.AssetKey(["core", "census_indicators"])
        ]
        checks = [
            c
            for c in result.get_asset_check_evaluations()
            if c.asset_key == dg.AssetKey(["core", "census_indicators"])
        ]
        assert {c.check_name for c in checks} == {
            "census_no_small_cell_published",
            "census_one_row_per_cell",
        }
        assert all(c.passed for c in checks)
        with duckdb.connect(str(root / "emp.duckdb"), read_only=True) as con:
            results[engine] = (
                con.execute("SELECT * FROM core.census_indicators").df(),
                materialization.metadata,
            )
    cells, metadata = results["spark"]
    assert metadata["engine"].value == "spark"  # reported by the job through Pipes
    assert metadata["persons_read"].value == 40_000
    assert metadata["cells"].value == len(cells)
    assert_same_cells(results["duckdb"][0], cells)
