"""The census indicators on Spark: the asset launches indicators/census_spark_job.py through
Dagster Pipes and reads back the cells the job wrote.

Locally the client is `PipesSubprocessClient` running `spark-submit --master EMP_SPARK_MASTER`.
On a cluster, only the client changes (docs/operator.md, "Census indicators on Spark"): the
job reports through Pipes in the same way.
"""

from __future__ import annotations

import os
import shutil
import sys
from pathlib import Path

import dagster as dg
import pandas as pd

from indicators import census_spark_job
from indicators.census_disclosure import CELL_KEY
from indicators.census_queries import CensusPartition
from warehouse.census import census_partitions

JOB = Path(census_spark_job.__file__)


def spark_submit() -> str:
    """spark-submit beside this Python (pyspark's own), else on the PATH."""
    beside = Path(sys.executable).parent / "spark-submit"
    found = str(beside) if beside.exists() else shutil.which("spark-submit")
    if not found:
        raise RuntimeError(
            "EMP_CENSUS_ENGINE=spark needs spark-submit: install pyspark (pip install pyspark) "
            "or put Spark's bin folder on the PATH"
        )
    return found


def spark_command(master: str) -> list[str]:
    if not (os.environ.get("JAVA_HOME") or shutil.which("java")):
        raise RuntimeError(
            "EMP_CENSUS_ENGINE=spark needs Java 17 or later: no `java` on the PATH and "
            "JAVA_HOME is not set (or leave EMP_CENSUS_ENGINE unset to use DuckDB)"
        )
    return [
        spark_submit(),
        *("--master", master, "--driver-memory", "2g"),
        *("--conf", "spark.log.level=WARN"),  # Spark's own INFO lines are not for the user
        str(JOB),
    ]


def run_spark_census(
    context: dg.AssetExecutionContext,
    census_dir: Path,
    master: str,
    threshold: int,
    carried: pd.DataFrame | None = None,
    partitions: list[CensusPartition] | None = None,
) -> tuple[pd.DataFrame, dg.MaterializeResult, pd.DataFrame]:
    """Run the Spark job over `partitions` (default: every census under `census_dir`), keeping
    `carried` (counts earlier editions kept confidential) confidential; returns the indicator
    cells, what the job reported (metadata and check results) and the counts it kept
    confidential."""
    partitions = partitions if partitions is not None else census_partitions(census_dir)
    if not partitions:
        raise LookupError(f"no census loaded under {census_dir}")
    output = census_dir.parent / "spark" / f"cells-{context.run_id}.parquet"
    earlier = output.with_name(f"carried-{context.run_id}.parquet")
    confidential_path = output.with_name(f"confidential-{context.run_id}.parquet")
    output.parent.mkdir(parents=True, exist_ok=True)
    (carried if carried is not None else pd.DataFrame(columns=CELL_KEY)).astype(str).to_parquet(
        earlier, index=False
    )
    env = {
        "PYSPARK_PYTHON": sys.executable,
        "PYSPARK_DRIVER_PYTHON": sys.executable,
        "SPARK_LOCAL_IP": os.environ.get("SPARK_LOCAL_IP", "127.0.0.1"),
    }
    try:
        invocation = dg.PipesSubprocessClient(env=env).run(
            context=context,
            command=spark_command(master),
            extras={
                "partitions": [vars(p) for p in partitions],
                "output": str(output),
                "threshold": threshold,
                "carried": str(earlier),
                "confidential": str(confidential_path),
            },
        )
        reported = invocation.get_materialize_result()
        cells = pd.read_parquet(output)
        confidential = pd.read_parquet(confidential_path)
    finally:
        for path in (output, earlier, confidential_path):
            path.unlink(missing_ok=True)
    return cells, reported, confidential
