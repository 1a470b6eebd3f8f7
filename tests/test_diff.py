"""`emp diff A B`: indicators added, removed, revised by a new edition and changed."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd

from publish.diff import diff_snapshots
from publish.snapshot_check import reseal
from publish.snapshots import list_snapshots


def edited_copy(built, tmp_path: Path) -> tuple[Path, Path]:
    """The MAR snapshot, and a later version of it with known edits."""
    source = Path(list_snapshots(built.snapshots, "MAR")[-1]["path"])
    root = tmp_path / "snapshots" / "MAR"
    old = root / "20260101T000000Z"
    new = root / "20260401T000000Z"
    for folder in (old, new):
        shutil.copytree(source, folder)
        for path in folder.rglob("*"):
            path.chmod(0o644 if path.is_file() else 0o755)
    for folder, created in ((old, "2026-01-01T00:00:00Z"), (new, "2026-04-01T00:00:00Z")):
        manifest = json.loads((folder / "manifest.json").read_text())
        manifest.update(version=folder.name, created_at=created)
        (folder / "manifest.json").write_text(json.dumps(manifest))
    frame = pd.read_parquet(new / "indicators.parquet")
    stock = (frame.indicator_id == "IMM_STOCK") & (frame.ref_area == "MAR") & (frame.sex == "_T")
    frame.loc[stock & (frame.time_period == "2019"), "obs_value"] *= 1.05  # a 5 % revision
    frame.loc[stock & (frame.time_period == "2015"), "obs_value"] *= 1.0001  # within tolerance
    removed = (
        (frame.indicator_id == "SDG_10_7_4")
        & (frame.series == "SM_POP_REFG_OR")
        & (frame.time_period == "2023")
    )
    added = frame[removed].assign(time_period="2024")
    frame = pd.concat([frame[~removed], added, added.assign(time_period="2025")])
    frame.to_parquet(new / "indicators.parquet")
    reseal(new)
    return old, new


def test_diff_finds_additions_removals_and_revisions(built, tmp_path):
    old, new = edited_copy(built, tmp_path)
    result = diff_snapshots(old, new, tolerance_pct=0.1)
    assert result["counts"]["added"] == 2 and result["counts"]["removed"] == 1
    changed = result["changed"]
    assert len(changed) == 1 and changed[0]["time_period"] == "2019"
    assert changed[0]["change_pct"] == pytest_approx(5.0)
    assert result["by_indicator"]["SDG_10_7_4"] == {
        "added": 2,
        "removed": 1,
        "revised": 0,
        "changed": 0,
    }
    strict = diff_snapshots(old, new, tolerance_pct=0.001)
    assert strict["counts"]["changed"] == 2
    same = diff_snapshots(old, old)
    assert same["counts"]["added"] == same["counts"]["removed"] == same["counts"]["changed"] == 0


def pytest_approx(value):
    import pytest

    return pytest.approx(value, rel=1e-6)


def test_cli_diff_table_and_json(built, tmp_path):
    old, new = edited_copy(built, tmp_path)
    args = [sys.executable, "-m", "pipelines.cli", "diff", old.name, new.name]
    args += ["--snapshots", str(tmp_path / "snapshots")]
    cwd = Path(__file__).resolve().parents[1]
    table = subprocess.run(args, capture_output=True, text=True, cwd=cwd, timeout=120)
    assert table.returncode == 0, table.stderr
    assert "1 removed" in table.stdout and "1 changed" in table.stdout
    assert "IMM_STOCK" in table.stdout
    done = subprocess.run([*args, "--json"], capture_output=True, text=True, cwd=cwd, timeout=120)
    result = json.loads(done.stdout)["MAR"]
    assert result["counts"]["added"] == 2 and result["changed"][0]["indicator_id"] == "IMM_STOCK"
    missing = subprocess.run(
        [*args[:4], old.name, "20990101T000000Z", *args[6:]],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=120,
    )
    assert missing.returncode == 2 and "no country has both" in missing.stderr
