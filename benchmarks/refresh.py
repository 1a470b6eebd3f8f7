"""Refresh benchmark: what a refresh costs against the floor of reading its input files once.

    python benchmarks/refresh.py

In one run on the same machine: the floor (every bundled input file read once with the reader
its format needs: calamine for Excel, the csv module for CSV, pyarrow for Parquet), then
`emp refresh` from an empty EMP_HOME, again with nothing changed, and again after one new
ministry file lands in the inbox; each with its ratio to the floor, and the peak memory of the
refreshes. The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import csv
import io
import json
import os
import resource
import shutil
import subprocess
import sys
import tempfile
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


def refresh(home: Path) -> tuple[float, dict]:
    env = {**os.environ, "EMP_HOME": str(home)}
    started = time.perf_counter()
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "refresh", "--json"],
        env=env,
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    seconds = time.perf_counter() - started
    if done.returncode not in (0, 4):
        raise SystemExit(f"refresh failed ({done.returncode}): {done.stderr[-2000:]}")
    return seconds, json.loads(done.stdout)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workdir", type=Path, default=None)
    parser.add_argument("--keep", action="store_true", help="keep the EMP_HOME it builds")
    args = parser.parse_args()
    home = args.workdir or Path(tempfile.mkdtemp(prefix="emp-refresh-"))

    full_s, first = refresh(home)
    print(f"full refresh from an empty EMP_HOME: {full_s:.1f} s")

    files = input_files(home / "census" / "source")
    started = time.perf_counter()
    cells = sum(read_once(p) for p in files)
    floor_s = time.perf_counter() - started
    print(f"floor: {len(files)} input files read once ({cells:,} cells) in {floor_s:.2f} s")

    unchanged_s, second = refresh(home)
    print(
        f"refresh with nothing changed: {unchanged_s:.1f} s; countries unchanged: "
        f"{', '.join(second.get('unchanged', [])) or 'none'}"
    )

    ministry, sample, name = NEW_FILE
    inbox = home / "inbox" / ministry
    inbox.mkdir(parents=True, exist_ok=True)
    text = (Path(NATIONAL_DATA_DIR) / ministry / sample).read_bytes().decode("latin-1")
    (inbox / name).write_bytes(text.replace("294 326", "301 002", 1).encode("latin-1"))
    one_file_s, third = refresh(home)
    print(
        f"refresh after one new ministry file ({ministry}/{name}): {one_file_s:.1f} s; "
        f"unchanged: {', '.join(third.get('unchanged', [])) or 'none'}"
    )

    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    result = {
        "floor_s": round(floor_s, 2),
        "full_s": round(full_s, 1),
        "unchanged_s": round(unchanged_s, 1),
        "one_file_s": round(one_file_s, 1),
        "full_ratio": round(full_s / floor_s, 1),
        "unchanged_ratio": round(unchanged_s / floor_s, 1),
        "one_file_ratio": round(one_file_s / floor_s, 1),
        "peak_rss_mb": round(peak),
        "input_files": len(files),
        "census_codebooks": len(codebooks()),
        "countries": first.get("countries"),
        "versions": {c: s["version"] for c, s in first.get("snapshots", {}).items()},
    }
    if not args.keep and args.workdir is None:
        shutil.rmtree(home, ignore_errors=True)
    print(json.dumps(result))


if __name__ == "__main__":
    main()
