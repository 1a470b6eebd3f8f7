"""A quarter of the profile process, end to end, through the real command line on one EMP_HOME:
the register says a Moroccan ministry owes a dataset by a date; nothing arrives, so it is late;
a file with an error arrives and is held back with a French message; the corrected file
validates; the refresh makes a draft; approval makes it the published edition; a revision makes
a new draft while the approved edition stays published until it is approved in turn."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from sources.samples import NATIONAL_DATA_DIR
from sources.specs import SPECS_DIR

EMP = [sys.executable, "-m", "pipelines.cli"]
ROOT = Path(__file__).resolve().parents[1]
SAMPLE = NATIONAL_DATA_DIR / "MAR_ANAPEC" / "placements_international_2019.csv"
NAME = "placements_international_2026.csv"


def emp(home: Path, env: dict, *args: str, expect: tuple[int, ...] = (0,)) -> str:
    done = subprocess.run(
        [*EMP, *args],
        env={**os.environ, "EMP_HOME": str(home), **env},
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode in expect, (done.returncode, done.stdout[-2000:], done.stderr[-3000:])
    return done.stdout + done.stderr


def status_of(home: Path, env: dict) -> dict:
    text = emp(home, env, "status", "--country", "MAR", "--json", expect=(0, 1))
    rows = json.loads(text[: text.rindex("}") + 1])["MAR"]["periods"]
    return {(r["dataset"], r["period"]): r for r in rows}


def editions(home: Path, env: dict) -> list[dict]:
    text = emp(home, env, "snapshots", "--country", "MAR", "--json")
    return json.loads(text[: text.rindex("]") + 1])


def placements(values: dict[int, str]) -> str:
    """The 2019 sample sent again as 2026, with some cells replaced (line -> text)."""
    lines = SAMPLE.read_text(encoding="utf-8").splitlines()
    lines = [lines[0]] + [line.replace("2019,", "2026,", 1) for line in lines[1:]]
    for number, text in values.items():
        lines[number - 1] = text
    return "\n".join(lines) + "\n"


def send(home: Path, text: str) -> None:
    folder = home / "inbox" / "MAR_ANAPEC"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / NAME
    path.write_text(text, encoding="utf-8")
    past = datetime.now().timestamp() - 60  # written a minute ago: settled
    os.utime(path, (past, past))


@pytest.mark.slow
def test_a_quarter_of_the_process(tmp_path):
    home, specs = tmp_path / "home", tmp_path / "specs"
    shutil.copytree(SPECS_DIR, specs)
    deadline = (datetime.now(UTC) - timedelta(days=3)).date()
    register = specs / "MAR.reporting.yaml"
    register.write_text(
        "country: MAR\ndatasets:\n  - dataset: mar_anapec_placements\n    from: 2026\n"
        f"    to: 2026\n    deadlines: {{2026: {deadline.isoformat()}}}\n",
        encoding="utf-8",
    )
    env = {
        "EMP_SPECS": str(specs),
        "EMP_COUNTRIES": "MAR",
        "EMP_INBOX_SETTLE": "0",
        "COLUMNS": "250",
    }

    # owed by a date that has passed, nothing received: late, and the command says so
    owed = status_of(home, env)[("mar_anapec_placements", "2026")]
    assert owed["status"] == "overdue" and owed["deadline"] == deadline.isoformat()
    text = emp(home, env, "--lang", "fr", "status", "--country", "MAR", expect=(1,))
    assert "en retard : rien reçu : 2026" in text and "Complétude" in text

    # a misspelt country: emp check names it in French with the closest country
    misspelt = tmp_path / NAME
    misspelt.write_text(placements({3: "2026,Espagn,Femmes,Agriculture,13516"}), encoding="utf-8")
    checked = emp(home, env, "--lang", "fr", "check", str(misspelt), expect=(1,))
    assert "ligne 3" in checked and "'Espagn' n'est pas un pays" in checked
    assert "vouliez-vous dire Espagne" in checked
    # a file with an error arrives: a renamed column. Loading holds it back, and the register
    # shows the period held back with the reason
    send(home, placements({1: "Année,Pays de destination,Genre,Secteur,Nombre de placements"}))
    emp(home, env, "refresh", expect=(0, 4))
    held = status_of(home, env)[("mar_anapec_placements", "2026")]
    assert held["status"] == "held_back" and held["reason"]
    assert not any(e["status"] == "approved" for e in editions(home, env))
    first = editions(home, env)[-1]
    assert first["status"] == "draft"

    # the corrected file validates: received late (after the deadline), and a new draft
    send(home, placements({}))
    emp(home, env, "refresh", expect=(0, 4))
    received = status_of(home, env)[("mar_anapec_placements", "2026")]
    assert received["status"] == "late" and received["batch"]
    draft = editions(home, env)[-1]
    assert draft["version"] != first["version"] and draft["status"] == "draft"
    profile = home / "reports" / "profile" / "MAR"
    assert not (profile / "latest.fr.html").exists(), "nothing approved, nothing published"
    assert "draft-notice" in (profile / "draft.fr.html").read_text(encoding="utf-8")
    part_d = (profile / f"{draft['version']}.fr.html").read_text(encoding="utf-8")
    assert "Transmission des données par les ministères et organismes" in part_d
    assert "reçu en retard" not in part_d or "Reçu en retard" in part_d

    # approval: the draft becomes the published edition
    emp(
        home,
        env,
        "--lang",
        "fr",
        "approve",
        "--country",
        "MAR",
        "--version",
        draft["version"],
        "--by",
        "Présidence du GTT",
        "--note",
        "réunion du 3 décembre",
    )
    approved = {e["version"]: e for e in editions(home, env)}[draft["version"]]
    assert approved["status"] == "approved" and approved["approved_by"] == "Présidence du GTT"
    latest = (profile / "latest.fr.html").read_text(encoding="utf-8")
    assert draft["version"] in latest and "draft-notice" not in latest
    assert "édition approuvée" in latest

    # a revision: a new draft; the approved edition stays published until approved in turn
    send(home, placements({2: "2026,Espagne,Hommes,Agriculture,420"}))
    emp(home, env, "refresh", expect=(0, 4))
    revision = editions(home, env)[-1]
    assert revision["version"] != draft["version"] and revision["status"] == "draft"
    latest = (profile / "latest.fr.html").read_text(encoding="utf-8")
    assert draft["version"] in latest and revision["version"] not in latest
    pending = (profile / "draft.fr.html").read_text(encoding="utf-8")
    assert "draft-notice" in pending and "dernière édition approuvée" in pending
    emp(home, env, "approve", "--country", "MAR", "--version", revision["version"], "--by", "GTT")
    latest = (profile / "latest.fr.html").read_text(encoding="utf-8")
    assert revision["version"] in latest and not (profile / "draft.fr.html").exists()

    # an edited approval log is refused on every read, in the reader's language
    log = home / "snapshots" / "approvals.jsonl"
    log.write_text(log.read_text(encoding="utf-8").replace("GTT", "GTT bis"), encoding="utf-8")
    refused = emp(home, env, "--lang", "fr", "snapshots", expect=(2,))
    assert "chaîne d'empreintes est rompue" in refused
