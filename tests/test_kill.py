"""`kill -9` at the worst moments: while the synthetic census is written, while a snapshot is
written. The next refresh clears what was left and publishes the same values as a clean run."""

from __future__ import annotations

import glob
import math
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

pytestmark = pytest.mark.slow

KEYS = (
    "indicator_id, series, ref_area, counterpart_area, time_period, sex, age, migrant_status, "
    "breakdown, obs_status"
)


def _env(home: Path) -> dict[str, str]:
    return {
        **os.environ,
        "EMP_HOME": str(home),
        "EMP_COUNTRIES": "MDA",
        "EMP_CENSUS_PERSONS": "300000",
        "EMP_LOCK_WAIT": "5",
    }


def _refresh(home: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "refresh", "--json"],
        env=_env(home),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def _kill_when(home: Path, pattern: str, limit: float = 400) -> bool:
    """Start a refresh and kill -9 it as soon as `pattern` (a glob under home) appears."""
    process = _refresh(home)
    deadline = time.monotonic() + limit
    while time.monotonic() < deadline and process.poll() is None:
        if glob.glob(str(home / pattern), recursive=True, include_hidden=True):
            process.send_signal(signal.SIGKILL)
            process.wait()
            return True
        time.sleep(0.002)
    process.kill()
    process.wait()
    return False


def _values(home: Path) -> dict[tuple, float | None]:
    latest = sorted((home / "snapshots" / "MDA").iterdir())[-1] / "indicators.parquet"
    rows = duckdb.sql(f"SELECT {KEYS}, obs_value FROM '{latest}'").fetchall()
    return {row[:-1]: row[-1] for row in rows}


def _same(left: dict, right: dict) -> bool:
    """The same keys, and values equal to 1e-9 relative (sums of doubles may be added up in
    another order)."""
    return left.keys() == right.keys() and all(
        (a is None and b is None)
        or (a is not None and b is not None and math.isclose(a, b, rel_tol=1e-9, abs_tol=1e-9))
        for a, b in ((left[k], right[k]) for k in left)
    )


def _leftovers(home: Path) -> list[str]:
    return [
        p
        for p in glob.glob(str(home / "**" / ".*tmp-*"), recursive=True, include_hidden=True)
        if "/staging/" not in p
    ]


def test_a_refresh_killed_at_each_step_is_followed_by_a_clean_one(tmp_path):
    clean = tmp_path / "clean"
    assert subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "refresh", "--json"],
        env=_env(clean),
        capture_output=True,
        timeout=900,
    ).returncode in (0, 4)
    home = tmp_path / "killed"
    assert _kill_when(home, "census/source/**/.*tmp-*"), "census generation never seen"
    assert _leftovers(home), "the kill left nothing half-written (too late?)"
    assert _kill_when(home, "snapshots/MDA/.*tmp-*"), "snapshot writing never seen"
    done = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "refresh", "--json"],
        env=_env(home),
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode in (0, 4), done.stderr[-2000:]
    assert _leftovers(home) == []
    assert _same(_values(home), _values(clean))
