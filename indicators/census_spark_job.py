"""The census indicators as a Spark job, launched through Dagster Pipes (spark-submit locally, or
a cluster's Pipes client).

    spark-submit indicators/census_spark_job.py      (Dagster passes the extras below)

Extras: `partitions` (country, census_round and the files of each census asked for), `output`
(the Parquet file the indicator cells are written to), `threshold` and `secondary` (disclosure
control), `carried` (a Parquet file of the counts earlier editions kept confidential) and
`confidential` (where the counts this run keeps confidential are written). The job runs the
same census passes and disclosure control as the embedded DuckDB
engine (indicators/census.py), reads only the partitions it is given, and reports back to the
asset the row counts and the result of each census indicator check.
"""

from __future__ import annotations

import time
from pathlib import Path

import pandas as pd
from dagster_pipes import open_dagster_pipes

from indicators.census import census_indicators
from indicators.census_checks import census_cell_checks
from indicators.census_engines import SparkEngine, spark_session
from indicators.census_queries import CensusPartition


def main() -> None:
    with open_dagster_pipes() as pipes:
        extras = pipes.extras
        partitions = [CensusPartition(**p) for p in extras["partitions"]]
        threshold = int(extras["threshold"])
        started = time.perf_counter()
        spark = spark_session()
        try:
            engine = SparkEngine(spark, partitions)
            persons = sum(engine.rows(p.persons) for p in partitions)
            pipes.log.info(
                f"Spark {spark.version}: {len(partitions)} census(es), {persons:,} persons"
            )
            carried = pd.read_parquet(extras["carried"]) if extras.get("carried") else None
            confidential: list[pd.DataFrame] = []
            cells = census_indicators(
                engine,
                threshold,
                bool(extras.get("secondary", True)),
                partitions,
                carried=carried,
                confidential=confidential,
            )
        finally:
            spark.stop()
        output = Path(extras["output"])
        output.parent.mkdir(parents=True, exist_ok=True)
        cells.to_parquet(output, index=False)
        if extras.get("confidential"):
            confidential[0].to_parquet(extras["confidential"], index=False)
        for check in census_cell_checks(cells, threshold):
            pipes.report_asset_check(
                check_name=check.name,
                passed=check.passed,
                metadata={"failing_cells": check.failing, "description": check.description},
            )
        disclosure = cells.attrs["disclosure"]
        pipes.report_asset_materialization(
            metadata={
                "engine": "spark",
                "spark_version": spark.version,
                "censuses": [f"{p.country} {p.census_round}" for p in partitions],
                "persons_read": persons,
                "cells": len(cells),
                "information_lost_share_of_persons": round(
                    disclosure["secondary_share_of_persons"], 4
                ),
                "spark_seconds": round(time.perf_counter() - started, 2),
            }
        )


if __name__ == "__main__":
    main()
