"""Conflicts found after parsing hold back their own sources, never the run: a file that
repeats a key, and two specs that declare one series code."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from pipelines.assets import COUNTRIES
from sources.check import check_file
from sources.specs import SPECS_DIR, spec_set
from tests.conftest import latest_manifests, refresh

#: Moldova's Open SDG file for 10.7.4 as the statistics office publishes it: several values
#: per year for one key (blank = total in every column)
REPEATED = "Year,Sex,Value\n2019,,101.2\n2019,,99.8\n2020,,88.0\n2020,,87.5\n2021,,90.1\n"
OPEN_SDG_SPEC = """id: mda_sdg_10_7_4
version: 1
ministry: MDA_BNS
ministry_name: Biroul Național de Statistică
dataset: ODD 10.7.4
country: MDA
format: open_sdg
open_sdg:
  indicator: 10-7-4
  series: MDA_SDG_REFUGEES_ORIGIN
  unit: PER_100000
  stat_type: ratio
"""


def _specs_with_faults(tmp_path: Path) -> Path:
    specs = tmp_path / "specs"
    shutil.copytree(SPECS_DIR, specs)
    (specs / "MDA_BNS" / "sdg_10_7_4.yaml").write_text(OPEN_SDG_SPEC, encoding="utf-8")
    # a second Office des Changes spec that reuses the quarterly remittance series code
    quarterly = specs / "MAR_OC" / "remittances_quarterly.yaml"
    twin = quarterly.read_text(encoding="utf-8").replace(
        "id: mar_remittances_quarterly", "id: mar_remittances_revised"
    )
    twin = twin.replace('file_pattern: "transferts_mre_*.xlsx"', 'file_pattern: "revise_*.xlsx"')
    (specs / "MAR_OC" / "remittances_revised.yaml").write_text(twin, encoding="utf-8")
    return specs


def test_emp_check_finds_a_repeated_key_through_the_open_sdg_shorthand(tmp_path):
    specs = _specs_with_faults(tmp_path)
    path = tmp_path / "MDA_BNS" / "indicator_10-7-4.csv"
    path.parent.mkdir()
    path.write_text(REPEATED, encoding="utf-8")
    report = check_file(path, spec_set(specs).specs)
    assert not report.would_load
    repeated = [p for p in report.problems if p.rule.endswith("unique")]
    assert sorted(p.row for p in repeated) == [2, 3, 4, 5]  # the file's lines, header = 1


@pytest.mark.slow
def test_repeated_keys_and_shared_series_hold_back_their_sources_only(tmp_path):
    from sources.samples import NATIONAL_DATA_DIR

    specs = _specs_with_faults(tmp_path)
    inbox = tmp_path / "inbox"
    (inbox / "MDA_BNS").mkdir(parents=True)
    (inbox / "MDA_BNS" / "indicator_10-7-4.csv").write_text(REPEATED, encoding="utf-8")
    (inbox / "MAR_OC").mkdir(parents=True)
    sample = next((NATIONAL_DATA_DIR / "MAR_OC").glob("transferts_mre_*.xlsx"))
    shutil.copy(sample, inbox / "MAR_OC" / f"revise_{sample.name}")
    keys = COUNTRIES.get_partition_keys()
    result = refresh(tmp_path, raise_on_error=False, specs_dir=str(specs))
    assert result.success
    manifests = latest_manifests(tmp_path / "snapshots")
    assert sorted(manifests) == sorted(keys)
    moldova = {h["source_id"]: h for h in manifests["MDA"]["validation"]["held_back"]}
    assert "indicator_10-7-4.csv" in moldova["mda_sdg_10_7_4"]["item"]
    morocco = {h["source_id"]: h["reason"] for h in manifests["MAR"]["validation"]["held_back"]}
    # both specs that give MAR_OC_REMITTANCES_IN are named, each naming the other
    assert "mar_remittances_revised" in morocco["mar_remittances_quarterly"]
    assert "mar_remittances_quarterly" in morocco["mar_remittances_revised"]
    assert "MAR_OC_REMITTANCES_IN" in morocco["mar_remittances_quarterly"]
    assert [
        h for h in manifests["GEO"]["validation"]["held_back"] if h["country"] != "*"
    ] == []  # nothing of theirs is named
    with duckdb.connect(str(tmp_path / "emp.duckdb"), read_only=True) as con:
        remittances = con.execute(
            "SELECT list(DISTINCT source_ids[1]) FROM marts.indicators "
            "WHERE indicator_id = 'REM_IN_USD' AND ref_area = 'MAR'"
        ).fetchone()[0]
        failed = con.execute(
            "SELECT file_name FROM meta.batches WHERE validation = 'failed'"
        ).fetchall()
    # the publishers' remittances stay; neither clashing ministry dataset is used
    assert remittances and not {"mar_remittances_quarterly", "mar_remittances_revised"} & set(
        remittances
    )
    assert ("indicator_10-7-4.csv",) in failed
