"""Changing inputs or configuration between two refreshes on one EMP_HOME: every kind of change
(a publisher's file, a spec's text, a spec's new version that renames a series, the governance
folder, a baseline request, a setting) reruns what depends on it, both refreshes succeed, and
the last one publishes what a clean run on the same inputs publishes."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from sources.data_home import BASELINE_REQUESTS_DIR, public_data_dir
from sources.governance import BUNDLED_DIR as GOVERNANCE_DIR
from sources.specs import SPECS_DIR
from tests.test_malformed import BORDER, csv_bytes, lines_of

EMP = [sys.executable, "-m", "pipelines.cli"]
ROOT = Path(__file__).resolve().parents[1]


def _refresh(home: Path, env: dict[str, str]) -> dict:
    done = subprocess.run(
        [*EMP, "refresh", "--json"],
        env={**os.environ, "EMP_HOME": str(home), **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode in (0, 4), done.stderr[-3000:]
    summary = json.loads(done.stdout)
    assert summary["success"] and not summary["failures"], summary["failures"]
    return summary


def _latest(home: Path, country: str) -> pd.DataFrame:
    folder = sorted(p for p in (home / "snapshots" / country).iterdir() if p.is_dir())[-1]
    return pd.read_parquet(folder / "indicators.parquet")


def _values(home: Path) -> dict[str, list]:
    """Each country's published values outside the census (whose confidential cells depend on
    the editions published before, by design), as comparable rows."""
    found = {}
    for country in ("GEO", "MAR", "MDA", "PHL"):
        table = _latest(home, country)
        census = table["source_ids"].map(lambda ids: any(str(i).startswith("census_") for i in ids))
        rows = table.loc[~census, ["value_key", "obs_value", "obs_status", "conf_status"]]
        rows = rows.assign(obs_value=rows["obs_value"].round(9)).astype(str)
        found[country] = sorted(map(tuple, rows.to_numpy()))
    return found


def _confidential(home: Path, country: str) -> set[str]:
    table = _latest(home, country)
    return set(table.loc[table["conf_status"] == "C", "value_key"])


def _renamed_series(specs: Path) -> None:
    spec = specs / "MDA_IGPF" / "border_emigration_return.yaml"
    text = spec.read_text(encoding="utf-8")
    text = text.replace("version: 1", "version: 2").replace(
        "MDA_BORDER_EMIGRANTS", "MDA_BORDER_EMIGRANTS_12M"
    )
    spec.write_text(text, encoding="utf-8")


@pytest.mark.slow
def test_each_kind_of_change_between_two_refreshes(tmp_path):
    home, config = tmp_path / "home", tmp_path / "config"
    specs, governance = config / "specs", config / "governance"
    requests, public = config / "baselines", config / "public"
    shutil.copytree(SPECS_DIR, specs)
    shutil.copytree(GOVERNANCE_DIR, governance)
    shutil.copytree(BASELINE_REQUESTS_DIR, requests)
    shutil.copytree(public_data_dir(), public)
    env = {
        "EMP_SPECS": str(specs),
        "EMP_GOVERNANCE": str(governance),
        "EMP_BASELINE_REQUESTS": str(requests),
        "EMP_PUBLIC_DATA": str(public),
    }
    border_2015 = csv_bytes([line.replace("2019,", "2015,") for line in lines_of(BORDER)])
    inbox = home / "inbox" / "MDA_IGPF"
    inbox.mkdir(parents=True)
    (inbox / "emigrare_revenire_2015.csv").write_bytes(border_2015)
    _refresh(home, env)
    assert not inbox.joinpath("emigrare_revenire_2015.csv").exists()  # archived
    hidden_first = {c: _confidential(home, c) for c in ("MAR", "MDA")}

    # a publisher's new file (here one nothing recognises: held back, the rest goes on)
    (public / "unhcr" / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    said = _refresh(home, env)
    assert any("notes.csv" in h["item"] for h in said["held_back"])
    # a spec's description
    spec = specs / "MAR_OC" / "remittances_quarterly.yaml"
    spec.write_text(
        spec.read_text(encoding="utf-8").replace("Personal remittances", "Remittances"),
        encoding="utf-8",
    )
    _refresh(home, env)
    # the governance entries
    entry = governance / "MAR.yaml"
    entry.write_text(entry.read_text(encoding="utf-8") + "\n# reviewed\n", encoding="utf-8")
    _refresh(home, env)
    # a baseline request
    request = next(requests.glob("*.yaml"))
    request.write_text(request.read_text(encoding="utf-8") + "\n# reviewed\n", encoding="utf-8")
    _refresh(home, env)
    # a setting
    env["EMP_SDC_THRESHOLD"] = "11"
    _refresh(home, env)
    # a spec's new version renames a series: the archived 2015 file is read again under it
    _renamed_series(specs)
    said = _refresh(home, env)
    moldova = [h for h in said["held_back"] if h["country"] == "MDA"]
    assert moldova == [], moldova
    # a published edition edited by hand: the next refresh does not trust it, and replaces it
    edition = sorted((home / "snapshots" / "GEO").iterdir())[-1]
    table = edition / "indicators.parquet"
    table.chmod(0o644)
    frame = pd.read_parquet(table)
    frame["obs_value"] = frame["obs_value"] * 10
    frame.to_parquet(table)
    said = _refresh(home, env)
    assert said["snapshots"]["GEO"]["version"] != edition.name
    assert any(w.startswith("GEO:") and "refused" in w for w in said["warnings"])

    clean = tmp_path / "clean"
    (clean / "inbox" / "MDA_IGPF").mkdir(parents=True)
    (clean / "inbox" / "MDA_IGPF" / "emigrare_revenire_2015.csv").write_bytes(border_2015)
    _refresh(clean, env)
    assert _values(home) == _values(clean)
    # census cells the first edition kept confidential (threshold 10) stay confidential in the
    # last (threshold 11), which a clean run at 11 alone does not guarantee
    for country in ("MAR", "MDA"):
        assert hidden_first[country] and _confidential(home, country) >= hidden_first[country]
    import duckdb

    with duckdb.connect(str(home / "emp.duckdb"), read_only=True) as con:
        periods = con.execute(
            "SELECT list(DISTINCT time_period ORDER BY time_period) FROM core.observations "
            "WHERE series = 'MDA_BORDER_EMIGRANTS_12M'"
        ).fetchone()[0]
        old = con.execute(
            "SELECT count(*) FROM core.observations WHERE series = 'MDA_BORDER_EMIGRANTS'"
        ).fetchone()[0]
    assert periods == ["2015", "2019"] and old == 0
