"""Third-party data are read where they lie (../shared/data), recorded in provenance.csv, and
never committed into the project."""

from __future__ import annotations

import csv
import subprocess

from sources.data_home import PROJECT_ROOT, PROVENANCE_FILE, data_status, public_data_dir
from sources.publishers.files import default_public_files, missing_files


def test_no_third_party_file_is_committed():
    tracked = subprocess.run(
        ["git", "ls-files"], cwd=PROJECT_ROOT, capture_output=True, text=True, check=True
    ).stdout.split()
    with open(PROVENANCE_FILE, encoding="utf-8") as fh:
        recorded = {row["path"].rsplit("/", 1)[-1] for row in csv.DictReader(fh)}
    committed = [path for path in tracked if path.rsplit("/", 1)[-1] in recorded]
    assert committed == []


def test_every_public_file_is_recorded_and_present_with_its_recorded_hash():
    with open(PROVENANCE_FILE, encoding="utf-8") as fh:
        rows = list(csv.DictReader(fh))
    assert all(r["publisher"] and r["licence"] for r in rows)
    assert all(r["download"].startswith("https://") for r in rows)
    recorded = {r["path"] for r in rows}
    assert sum(r.startswith("public/") for r in recorded) >= 11
    assert "reference/jmdi_projects.csv" in recorded
    status = data_status()
    assert status["missing"] == [] and status["changed"] == []
    assert missing_files() == []


def test_a_moved_data_folder_is_named_with_what_is_missing(tmp_path, monkeypatch):
    monkeypatch.setenv("EMP_SHARED_DATA", str(tmp_path / "nowhere"))
    assert public_data_dir() == tmp_path / "nowhere" / "public"
    status = data_status()
    assert status["shared"] == str(tmp_path / "nowhere")
    assert len(status["missing"]) == status["recorded"] >= 17
    assert len(missing_files()) == len(default_public_files()) >= 11
