"""Engines the census passes run on: DuckDB (embedded, the default) and Apache Spark.

An engine registers one view per census partition over its Parquet files and runs the passes of
indicators/census_queries.py, returning their small results as pandas frames. The SQL is the
same text for both: DuckDB runs it as written, Spark as sqlglot transpiles it to Spark SQL.
"""

from __future__ import annotations

from functools import cache
from typing import Protocol

import pandas as pd

from indicators.census_queries import CensusPartition


class CensusEngine(Protocol):
    name: str

    def partitions(self) -> list[CensusPartition]: ...

    def register(self, view: str, files: str) -> None: ...

    def frame(self, sql: str) -> pd.DataFrame: ...

    def drop(self, view: str) -> None: ...


def _quoted(text: str) -> str:
    return text.replace("'", "''")


class DuckDBEngine:
    """The warehouse's own connection; its partitions are those census.person_partitions
    lists."""

    name = "duckdb"

    def __init__(self, con) -> None:
        self.con = con

    def partitions(self) -> list[CensusPartition]:
        rows = self.con.execute(
            "SELECT country, census_round, files, areas, members_abroad "
            "FROM census.person_partitions ORDER BY country, census_round"
        ).fetchall()
        return [CensusPartition(*row) for row in rows]

    def register(self, view: str, files: str) -> None:
        self.con.execute(
            f"CREATE OR REPLACE TEMP VIEW {view} AS SELECT * FROM "
            f"read_parquet('{_quoted(files)}', hive_partitioning = false)"
        ).fetchall()

    def frame(self, sql: str) -> pd.DataFrame:
        return self.con.execute(sql).df()

    def drop(self, view: str) -> None:
        self.con.execute(f"DROP VIEW IF EXISTS {view}").fetchall()


def parquet_folder(files: str) -> str:
    """A partition's folder for Spark, from its `<folder>/*.parquet` pattern: Spark reads a
    folder whole and skips the hidden staging files beside the data."""
    return files.removesuffix("/*.parquet")


@cache
def spark_sql(sql: str) -> str:
    """The DuckDB text of a census pass in Spark SQL."""
    import sqlglot

    return sqlglot.transpile(sql, read="duckdb", write="spark")[0]


class SparkEngine:
    """A Spark session (local or a cluster's) over the partitions asked for."""

    name = "spark"

    def __init__(self, spark, partitions: list[CensusPartition]) -> None:
        self.spark = spark
        self._partitions = partitions

    def partitions(self) -> list[CensusPartition]:
        return self._partitions

    def register(self, view: str, files: str) -> None:
        self.spark.read.parquet(parquet_folder(files)).createOrReplaceTempView(view)

    def rows(self, files: str) -> int:
        """How many rows a partition's files hold."""
        return self.spark.read.parquet(parquet_folder(files)).count()

    def frame(self, sql: str) -> pd.DataFrame:
        return self.spark.sql(spark_sql(sql)).toPandas()

    def drop(self, view: str) -> None:
        self.spark.catalog.dropTempView(view)


def as_engine(source) -> CensusEngine:
    """An engine as given, or a DuckDB connection wrapped as one."""
    return (
        source if hasattr(source, "frame") and hasattr(source, "register") else DuckDBEngine(source)
    )


def spark_session(master: str | None = None, memory: str = "2g"):
    """A Spark session for the census passes: Arrow to hand results to pandas, few shuffle
    partitions (the results are small), no UI, UTC. `master` None: the one spark-submit set."""
    from pyspark.sql import SparkSession

    builder = SparkSession.builder if master is None else SparkSession.builder.master(master)
    return (
        builder.appName("emp-census-indicators")
        .config("spark.driver.memory", memory)
        .config("spark.sql.shuffle.partitions", "8")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .getOrCreate()
    )
