"""Refresh benchmark: what a refresh costs against the floor of reading its input files once.

    python benchmarks/refresh.py

In one run on the same machine: the floor (every bundled input file read once with the reader
its format needs: calamine for Excel, the csv module for CSV, pyarrow for Parquet), then
`emp refresh` from an empty EMP_HOME, again with nothing changed, and again after one new
ministry file lands in the inbox; each with its ratio to the floor, and the peak memory of the
refreshes. Beside them: the fixed costs measured in the same run (importing Great Expectations
and Dagster, and starting an in-process Dagster run), the data work of the full refresh without
them (`own_s`: the steps from reading to snapshots and exports, from Dagster's step timings),
each publication product per country and language (HTML profile, PDF, site; the HTML profile
also with every chart drawn again, as if the refresh had kept none), and full refreshes
of the first 4, 50 and every country with data (time, time per country, peak memory; --scale).
The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from sources.census.codebook import codebooks  # noqa: E402
from sources.data_home import national_statistics_dir  # noqa: E402
from sources.publishers.files import default_public_files  # noqa: E402
from sources.samples import NATIONAL_DATA_DIR  # noqa: E402

#: The ministry file the "one new file" refresh receives: a copy of a bundled sample, for a year
#: the sample does not cover, with its counts changed.
NEW_FILE = (
    "MAR_MAE",
    "immatriculations_consulaires_2019.csv",
    "immatriculations_consulaires_2020.csv",
)


def read_once(path: Path) -> int:
    """Read one file as its format needs; return the cells (or bytes) read."""
    suffix = path.suffix.lower()
    if suffix in (".xlsx", ".xls", ".xlsm"):
        from python_calamine import CalamineWorkbook

        book = CalamineWorkbook.from_path(str(path))
        return sum(
            len(row)
            for name in book.sheet_names
            for row in book.get_sheet_by_name(name).to_python()
        )
    if suffix == ".csv":
        text = path.read_bytes().decode("utf-8", errors="replace")
        return sum(len(row) for row in csv.reader(io.StringIO(text)))
    if suffix == ".parquet":
        import pyarrow.parquet as pq

        return pq.read_table(path).num_rows
    return len(path.read_bytes())


def input_files(census_dir: Path | None) -> list[Path]:
    files = [p for p in default_public_files() if p.is_file()]
    files += [p for p in Path(NATIONAL_DATA_DIR).rglob("*") if p.is_file()]
    files += [p for p in national_statistics_dir().rglob("*") if p.is_file()]
    if census_dir and census_dir.is_dir():
        files += [p for p in census_dir.rglob("*.parquet") if p.is_file()]
    return sorted(set(files))


class TreeMemory:
    """The peak of the summed resident memory of a process and all its descendants (the report
    step's and the site's worker processes run beside the refresh), sampled every 0.2 s."""

    def __init__(self, pid: int) -> None:
        import psutil

        self.root = psutil.Process(pid)
        self.peak_mb = 0.0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._thread.start()

    def _sample(self) -> None:
        import psutil

        while not self._stop.wait(0.2):
            try:
                tree = [self.root, *self.root.children(recursive=True)]
            except psutil.Error:
                return
            total = 0
            for process in tree:
                try:
                    total += process.memory_info().rss
                except psutil.Error:
                    continue
            self.peak_mb = max(self.peak_mb, total / 2**20)

    def stop(self) -> float:
        self._stop.set()
        self._thread.join()
        return self.peak_mb


def refresh(home: Path, countries: list[str] | None = None) -> tuple[float, dict, float]:
    """One `emp refresh` in a child process: seconds, its JSON summary, and its peak memory
    (MB): the largest of the process's own peak and the summed peak of it with its workers."""
    env = {**os.environ, "EMP_HOME": str(home)}
    if countries:
        env["EMP_COUNTRIES"] = ",".join(countries)
    started = time.perf_counter()
    with tempfile.TemporaryFile("w+") as out, tempfile.TemporaryFile("w+") as err:
        child = subprocess.Popen(
            [sys.executable, "-m", "pipelines.cli", "refresh", "--json"],
            env=env,
            cwd=ROOT,
            stdout=out,
            stderr=err,
            text=True,
        )
        tree = TreeMemory(child.pid)
        _, status, usage = os.wait4(child.pid, 0)
        tree_peak = tree.stop()
        child.returncode = os.waitstatus_to_exitcode(status)
        seconds = time.perf_counter() - started
        out.seek(0)
        err.seek(0)
        if child.returncode not in (0, 1, 4):
            raise SystemExit(f"refresh failed ({child.returncode}): {err.read()[-2000:]}")
        return seconds, json.loads(out.read()), max(usage.ru_maxrss / 1024, tree_peak)


FIXED_COSTS = {
    "import_great_expectations_s": "import great_expectations",
    "import_dagster_s": "import dagster",
    "dagster_in_process_run_s": (
        "import dagster as dg\n@dg.asset\ndef one() -> int:\n    return 1\ndg.materialize([one])"
    ),
}


def fixed_costs() -> dict[str, float]:
    """Each library cost a refresh pays once, in a fresh interpreter (minus Python's own start)."""

    def timed(code: str) -> float:
        started = time.perf_counter()
        subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, capture_output=True)
        return time.perf_counter() - started

    bare = min(timed("pass") for _ in range(3))
    costs = {name: round(timed(code) - bare, 2) for name, code in FIXED_COSTS.items()}
    costs["dagster_in_process_run_s"] = round(
        costs["dagster_in_process_run_s"] - costs["import_dagster_s"], 2
    )
    return costs


#: the publication steps of a refresh; every other step is data work
PUBLISH_STEPS = ("reports__",)


def own_seconds(summary: dict) -> float:
    """The data work of a refresh (reading to snapshots and exports), from its step timings."""
    steps = summary.get("steps", {})
    return sum(s for key, s in steps.items() if not key.startswith(PUBLISH_STEPS))


def publication(home: Path, country: str) -> dict:
    """Each publication product of one country's latest edition, per language, and the site
    of every profile country: seconds."""
    from publish.chart_cache import chart_cache
    from publish.report import profile_languages

    env = {**os.environ, "EMP_HOME": str(home)}
    products: dict[str, float] = {}
    out = Path(tempfile.mkdtemp(prefix="emp-publish-"))
    kept = chart_cache(home / "reports")
    hidden = kept.with_name(kept.name + ".hidden")
    try:
        for language in profile_languages(country)[1]:
            # html_cold: every chart drawn again (the charts the refresh kept set aside)
            for kind, cold in (("html", True), ("html", False), ("pdf", False)):
                if cold and kept.is_dir():
                    kept.rename(hidden)
                started = time.perf_counter()
                subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "pipelines.cli",
                        "report",
                        "--country",
                        country,
                        "--lang",
                        language,
                        "--format",
                        kind,
                        "--output",
                        str(out / f"{country}.{language}.{kind}"),
                    ],
                    check=True,
                    cwd=ROOT,
                    env=env,
                    capture_output=True,
                )
                name = f"{kind}_{language}{'_cold' if cold else ''}_s"
                products[name] = round(time.perf_counter() - started, 2)
                if cold and hidden.is_dir():
                    shutil.rmtree(kept, ignore_errors=True)
                    hidden.rename(kept)
        started = time.perf_counter()
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pipelines.cli",
                "site",
                "--force",
                "--output",
                str(out / "site"),
            ],
            check=True,
            cwd=ROOT,
            env=env,
            capture_output=True,
        )
        products["site_s"] = round(time.perf_counter() - started, 2)
    finally:
        shutil.rmtree(out, ignore_errors=True)
    return products


#: one product after another in one process that has imported everything: the product's own cost
IN_PROCESS = """
import json, sys, tempfile, time
from pathlib import Path
from publish.chart_cache import chart_cache
from publish.pdf import print_builder
from publish.report import ProfileBuilder, profile_languages, render_builder
from publish.snapshot_index import list_snapshots
home, country = Path(sys.argv[1]), sys.argv[2]
edition = Path(list_snapshots(home / "snapshots", country)[-1]["path"])
kept, out, seconds = chart_cache(home / "reports"), Path(tempfile.mkdtemp()), {}
for language in profile_languages(country)[1]:
    started = time.perf_counter()
    builder = ProfileBuilder(edition, language, None, kept)
    context = builder.context()
    render_builder(builder, context=context)
    seconds[f"html_{language}_in_process_s"] = round(time.perf_counter() - started, 2)
    started = time.perf_counter()
    print_builder(builder, out / f"{language}.pdf", context)
    seconds[f"pdf_{language}_in_process_s"] = round(time.perf_counter() - started, 2)
print(json.dumps(seconds))
"""


def in_process(home: Path, country: str) -> dict:
    """Each product of one country per language, timed inside one process that has already
    imported the libraries (the product's own cost, without a process start): the HTML page
    from its kept charts, then the PDF from the same page's context."""
    done = subprocess.run(
        [sys.executable, "-c", IN_PROCESS, str(home), country],
        check=True,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return json.loads(done.stdout.strip().splitlines()[-1])


def countries_with_data(database: Path) -> list[str]:
    """The countries the international data give indicators for: the four profile countries
    first, then the others in code order."""
    import duckdb
    import pycountry

    with duckdb.connect(str(database), read_only=True) as con:
        rows = con.execute("SELECT DISTINCT ref_area FROM marts.indicators").fetchall()
    areas = {r[0] for r in rows}
    found = sorted(a for a in areas if pycountry.countries.get(alpha_3=a) is not None)
    first = [c for c in ("GEO", "MAR", "MDA", "PHL") if c in found]
    return first + [c for c in found if c not in first]


def scale(sizes: list[str], database: Path) -> list[dict]:
    """A full refresh from an empty EMP_HOME for the first N countries with data, for each N."""
    every = countries_with_data(database)
    rows = []
    for size in sizes:
        chosen = every if size == "all" else every[: int(size)]
        home = Path(tempfile.mkdtemp(prefix="emp-scale-"))
        try:
            seconds, summary, peak = refresh(home, chosen)
        finally:
            shutil.rmtree(home, ignore_errors=True)
        published = len(summary.get("snapshots", {}))
        rows.append(
            {
                "size": size,
                "countries": len(chosen),
                "published": published,
                "seconds": round(seconds, 1),
                "seconds_per_country": round(seconds / len(chosen), 2),
                "peak_rss_mb": round(peak),
            }
        )
        print(
            f"scale: {len(chosen)} countries ({published} published) in {seconds:.1f} s, "
            f"{seconds / len(chosen):.2f} s per country, peak {peak:.0f} MB"
        )
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the EMP_HOME it builds")
    parser.add_argument(
        "--scale",
        default="4,50,all",
        help="also refresh the first N countries with data from an empty EMP_HOME, for each N "
        "listed (default 4,50,all; empty to skip)",
    )
    args = parser.parse_args()
    home = args.workdir or Path(tempfile.mkdtemp(prefix="emp-refresh-"))

    fixed = fixed_costs()
    fixed_s = round(sum(fixed.values()), 2)
    print(f"fixed costs: {fixed_s:.2f} s ({', '.join(f'{k} {v}' for k, v in fixed.items())})")

    full_s, first, full_peak = refresh(home)
    own_s = own_seconds(first)
    print(
        f"full refresh from an empty EMP_HOME: {full_s:.1f} s (peak {full_peak:.0f} MB); "
        f"its data work without the fixed costs: {own_s:.1f} s"
    )

    files = input_files(home / "census" / "source")
    started = time.perf_counter()
    cells = sum(read_once(p) for p in files)
    floor_s = time.perf_counter() - started
    print(f"floor: {len(files)} input files read once ({cells:,} cells) in {floor_s:.2f} s")

    unchanged_s, second, unchanged_peak = refresh(home)
    print(
        f"refresh with nothing changed: {unchanged_s:.1f} s; countries unchanged: "
        f"{', '.join(second.get('unchanged', [])) or 'none'}"
    )

    ministry, sample, name = NEW_FILE
    inbox = home / "inbox" / ministry
    inbox.mkdir(parents=True, exist_ok=True)
    text = (Path(NATIONAL_DATA_DIR) / ministry / sample).read_bytes().decode("latin-1")
    (inbox / name).write_bytes(text.replace("294 326", "301 002", 1).encode("latin-1"))
    one_file_s, third, one_file_peak = refresh(home)
    print(
        f"refresh after one new ministry file ({ministry}/{name}): {one_file_s:.1f} s; "
        f"skipped: {', '.join(third.get('skipped', [])) or 'none'}"
    )
    skipped = set(third.get("skipped", []))
    published = {**publication(home, "MAR"), **in_process(home, "MAR")}
    print("publication, Morocco: " + ", ".join(f"{k} {v}" for k, v in published.items()))
    scaled = scale(args.scale.split(","), home / "emp.duckdb") if args.scale else []
    every = next((row for row in scaled if row["size"] == "all"), None)

    result = {
        "floor_s": round(floor_s, 2),
        "full_s": round(full_s, 1),
        "unchanged_s": round(unchanged_s, 1),
        "one_file_s": round(one_file_s, 1),
        "full_ratio": round(full_s / floor_s, 1),
        "unchanged_ratio": round(unchanged_s / floor_s, 1),
        "one_file_ratio": round(one_file_s / floor_s, 1),
        "fixed_s": fixed_s,
        "fixed": fixed,
        "own_s": round(own_s, 1),
        "own_ratio": round(own_s / floor_s, 1),
        "one_file_over_fixed_ratio": round(max(one_file_s - fixed_s, 0) / floor_s, 1),
        "all_countries_s": every["seconds"] if every else None,
        "per_country_s": every["seconds_per_country"] if every else None,
        "publish_s": {"MAR": published},
        "peak_rss_mb": round(max(full_peak, unchanged_peak, one_file_peak)),
        "input_files": len(files),
        "census_codebooks": len(codebooks()),
        "countries": first.get("countries"),
        "versions": {c: s["version"] for c, s in first.get("snapshots", {}).items()},
        "one_file_published": [c for c in third.get("countries", []) if c not in skipped],
        "scale": scaled,
    }
    if not args.keep and args.workdir is None:
        shutil.rmtree(home, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
