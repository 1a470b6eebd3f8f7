"""Census benchmark: generate N synthetic persons, ingest them, compute every census indicator.

    python benchmarks/census.py --persons 34000000

Prints wall time, peak memory, ingestion rows per second, and the ratio of the indicator step to
one hand-written DuckDB aggregation pass over the same Parquet, timed in the same run (each the
best of --repeat alternating runs). The last line is one JSON object.
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

from indicators.census import census_indicators  # noqa: E402
from sources.census.codebook import codebooks  # noqa: E402
from sources.census.generator import generate_census  # noqa: E402
from warehouse.census import ingest_census  # noqa: E402


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--persons", type=int, default=1_000_000)
    parser.add_argument("--codebook", default="mar_2014")
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--repeat", type=int, default=3, help="timings of each step (best kept)")
    args = parser.parse_args()
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
    print(
        f"one aggregation pass over the Parquet: {single_pass_s:.2f} s "
        f"(runs: {', '.join(f'{x:.2f}' for x in single_times)})"
    )
    print(
        f"every census indicator ({len(cells):,} cells, "
        f"{int(cells.suppressed.sum()):,} suppressed): {indicator_s:.2f} s "
        f"(runs: {', '.join(f'{x:.2f}' for x in indicator_times)})"
    )

    result = {
        "persons": args.persons,
        "wall_s": round(time.perf_counter() - started, 2),
        "peak_rss_mb": round(peak_rss_mb(), 1),
        "ingest_rows_per_s": round(load.persons / ingest_s),
        "indicator_s": round(indicator_s, 2),
        "single_pass_s": round(single_pass_s, 2),
        "ratio": round(indicator_s / single_pass_s, 2),
    }
    print(
        f"peak memory {result['peak_rss_mb']:,.0f} MB; indicator step / single pass = "
        f"{result['ratio']}"
    )
    print(json.dumps(result))


if __name__ == "__main__":
    main()
