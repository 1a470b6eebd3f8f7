"""Census benchmark: generate N synthetic persons, ingest them, compute every census indicator.

    python benchmarks/census.py --persons 34000000
    python benchmarks/census.py --persons 10000000 --engines duckdb,spark

Prints wall time, peak memory, ingestion rows per second, and the ratio of the indicator step to
one hand-written DuckDB aggregation pass over the same Parquet, timed in the same run (each the
best of --repeat alternating runs). Then disclosure control: the cells the primary and the
secondary pass suppressed, the information the secondary pass cost (share of cells and of
persons), its time against primary suppression alone, and what a differencing attack recovers
from either. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import json
import resource
import sys
import tempfile
import time
from pathlib import Path

import duckdb

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from indicators.census import census_indicators, measure_cells  # noqa: E402
from indicators.census_checks import cell_differences  # noqa: E402
from indicators.census_disclosure import cell_relations, protect_cells  # noqa: E402
from indicators.census_engines import SparkEngine, spark_session  # noqa: E402
from indicators.disclosure import derivable, differencing_attack  # noqa: E402
from sources.census.codebook import codebooks  # noqa: E402
from sources.census.generator import generate_census  # noqa: E402
from warehouse.census import census_partitions, ingest_census  # noqa: E402
from warehouse.settings import CENSUS_ENGINES  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--codebook", default="mar_2014")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3, help="timings of each step (best kept)")
    parser.add_argument("--engines", default="duckdb", help="duckdb, or duckdb,spark")
    parser.add_argument("--spark-master", default="local[*]")
    parser.add_argument("--spark-memory", default="4g", help="Spark driver memory (local mode)")
    args = parser.parse_args()
    engines = [e.strip() for e in args.engines.split(",") if e.strip()]
    if "duckdb" not in engines or set(engines) - set(CENSUS_ENGINES):
        parser.error(f"--engines: duckdb and optionally spark (got {args.engines!r})")
    codebook = codebooks()[args.codebook]
    work = args.workdir or Path(tempfile.mkdtemp(prefix="emp-census-"))
    work.mkdir(parents=True, exist_ok=True)
    con = duckdb.connect(str(work / "bench.duckdb"))
    con.execute("SET memory_limit = '5GB'")
    started = time.perf_counter()

    t = time.perf_counter()
    paths = generate_census(codebook, args.persons, work / "source", con=con)
    generate_s = time.perf_counter() - t
    print(f"generated {args.persons:,} persons in {generate_s:.1f} s")

    t = time.perf_counter()
    load = ingest_census(con, codebook, paths["persons"], paths["members_abroad"], work / "census")
    ingest_s = time.perf_counter() - t
    print(
        f"ingested {load.persons:,} persons in {ingest_s:.1f} s "
        f"({load.persons / ingest_s:,.0f} rows/s)"
    )

    single_pass = (  # the foreign-born share by province, sex and age group, written by hand
        "SELECT province, sex, age // 15 AS age_band, sum(weight) AS population, "
        "sum(weight) FILTER (WHERE birth_country <> country) AS foreign_born "
        "FROM census.persons GROUP BY ALL"
    )
    # Both steps are timed the same way, alternately, best of --repeat runs: the machine is
    # shared and a single timing of a sub-second step is noisy.
    single_times, indicator_times = [], []
    for _ in range(args.repeat):
        t = time.perf_counter()
        con.execute(single_pass).fetchall()
        single_times.append(time.perf_counter() - t)
        t = time.perf_counter()
        cells = census_indicators(con)
        indicator_times.append(time.perf_counter() - t)
    single_pass_s, indicator_s = min(single_times), min(indicator_times)
    args.duckdb_times = indicator_times
    print(
        f"one aggregation pass over the Parquet: {single_pass_s:.2f} s "
        f"(runs: {', '.join(f'{x:.2f}' for x in single_times)})"
    )
    print(
        f"every census indicator ({len(cells):,} cells, "
        f"{int(cells.suppressed.sum()):,} suppressed): {indicator_s:.2f} s "
        f"(runs: {', '.join(f'{x:.2f}' for x in indicator_times)})"
    )

    disclosure = cells.attrs["disclosure"]
    t = time.perf_counter()
    census_indicators(con, secondary=False)
    primary_only_s = time.perf_counter() - t
    recovered = {"primary_only": 0, "with_secondary": 0}
    audit_left = 0
    measures = measure_cells(con)
    for _, part in measures.groupby(["country", "census_round"]):
        for name, secondary in (("primary_only", False), ("with_secondary", True)):
            protected = protect_cells(part, 10, secondary=secondary)
            relations = cell_relations(protected)
            hidden = protected["suppression"].to_numpy() > 0
            published = protected["w"].to_numpy(dtype=float).copy()
            published[hidden] = float("nan")
            recovered[name] += len(differencing_attack(relations, published))
            if secondary:
                audit_left += len(derivable(relations, hidden))
    print(
        f"disclosure control: {disclosure['primary']:,} cells suppressed (primary), "
        f"{disclosure['secondary']:,} more by the secondary pass "
        f"({disclosure['secondary_share_of_cells']:.1%} of cells, "
        f"{disclosure['secondary_share_of_persons']:.1%} of the persons they count); "
        f"indicator step {indicator_s:.2f} s against {primary_only_s:.2f} s with primary "
        "suppression alone"
    )
    print(
        f"differencing attack: {recovered['primary_only']:,} suppressed cells recovered with "
        f"primary suppression alone, {recovered['with_secondary']:,} after the secondary pass; "
        f"linear audit: {audit_left} derivable"
    )

    result = {
        "persons": args.persons,
        "wall_s": round(time.perf_counter() - started, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "ingest_rows_per_s": round(load.persons / ingest_s),
        "indicator_s": round(indicator_s, 2),
        "single_pass_s": round(single_pass_s, 2),
        "ratio": round(indicator_s / single_pass_s, 2),
        "suppressed_primary": disclosure["primary"],
        "suppressed_secondary": disclosure["secondary"],
        "secondary_share_of_cells": round(disclosure["secondary_share_of_cells"], 4),
        "secondary_share_of_persons": round(disclosure["secondary_share_of_persons"], 4),
        "primary_only_s": round(primary_only_s, 2),
        "recovered_primary_only": recovered["primary_only"],
        "recovered_with_secondary": recovered["with_secondary"],
        "derivable_after_audit": audit_left,
    }
    print(
        f"peak memory {result['peak_rss_mb']:,.0f} MB; indicator step / single pass = "
        f"{result['ratio']}"
    )
    if "spark" in engines:
        result.update(on_spark(cells, work / "census", args))
        print(
            f"Spark {result['spark_version']} ({args.spark_master}): session "
            f"{result['spark_session_s']:.1f} s, indicator step {result['spark_s']:.2f} s "
            f"(runs: {result['spark_runs']}), {result['spark_over_duckdb']}x DuckDB's "
            f"{result['duckdb_s']:.2f} s; JVM peak {result['spark_peak_rss_mb']:,.0f} MB; "
            f"same cells: {result['engines_equal']}"
            + ("" if result["engines_equal"] else f" ({'; '.join(result['differences'])})")
        )
    print(json.dumps(result))


def _jvm_peak_mb(spark) -> float:
    """Peak resident memory of the Spark driver JVM (local mode: all of Spark), from /proc."""
    try:
        pid = spark.sparkContext._gateway.proc.pid
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    except (AttributeError, OSError):
        pass
    return float("nan")


def on_spark(duckdb_cells, census_dir: Path, args) -> dict:
    """The indicator step on Spark over the same Parquet, compared with DuckDB's cells."""
    t = time.perf_counter()
    spark = spark_session(args.spark_master, memory=args.spark_memory)
    session_s = time.perf_counter() - t
    engine = SparkEngine(spark, census_partitions(census_dir))
    times = []
    try:
        for _ in range(max(1, min(args.repeat, 2))):  # the first run also warms the JVM
            t = time.perf_counter()
            cells = census_indicators(engine)
            times.append(time.perf_counter() - t)
        peak = _jvm_peak_mb(spark)
        version = spark.version
    finally:
        spark.stop()
    differences = cell_differences(duckdb_cells, cells)
    duckdb_s = min(args.duckdb_times)
    return {
        "duckdb_s": round(duckdb_s, 2),
        "spark_s": round(min(times), 2),
        "spark_runs": ", ".join(f"{x:.2f}" for x in times),
        "spark_session_s": round(session_s, 2),
        "spark_over_duckdb": round(min(times) / duckdb_s, 1),
        "spark_peak_rss_mb": round(peak, 1),
        "spark_version": version,
        "engines_equal": not differences,
        "differences": differences,
    }


if __name__ == "__main__":
    main()
