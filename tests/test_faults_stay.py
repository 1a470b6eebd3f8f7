"""One bad spec, one spec feeding an unknown indicator and one batch that breaks an `error` rule
hold back their own datasets only: every country still gets its snapshot, and the summary, the
validation report, the manifest and Part D say what was held back and why."""

from __future__ import annotations

import json
import shutil

import pytest

from pipelines.assets import COUNTRIES
from pipelines.refresh import summary
from publish.report import render_profile
from sources.samples import NATIONAL_DATA_DIR
from sources.specs import SPECS_DIR
from tests.conftest import latest_manifests, refresh
from tests.test_malformed import BORDER, csv_bytes, lines_of
from warehouse.settings import Settings


@pytest.mark.slow
def test_faults_hold_back_only_their_own_dataset(tmp_path):
    specs = tmp_path / "specs"
    shutil.copytree(SPECS_DIR, specs)
    (specs / "MAR_MAE" / "consular_registrations.yaml").write_text(
        "id: mar_consular_registrations\nministry: MAR_MAE\ncountry: MAR\n"
        "file_pattern: 'immatriculations_consulaires_*.csv'\nformat: klingon\n",
        encoding="utf-8",
    )
    anapec = specs / "MAR_ANAPEC" / "placements_abroad.yaml"
    anapec.write_text(anapec.read_text().replace("LAB_DEPLOYED", "LAB_DEPLOYD"), encoding="utf-8")
    inbox = tmp_path / "inbox" / "MDA_IGPF"
    inbox.mkdir(parents=True)
    duplicated = csv_bytes([*lines_of(BORDER), lines_of(BORDER)[1]]).replace(b"2019,", b"2015,")
    (inbox / "emigrare_revenire_2015.csv").write_bytes(duplicated)
    keys = COUNTRIES.get_partition_keys()
    result = refresh(
        tmp_path,
        raise_on_error=False,
        specs_dir=str(specs),
        national_data_dir=str(NATIONAL_DATA_DIR),
    )
    assert result.success
    manifests = latest_manifests(tmp_path / "snapshots")
    assert sorted(manifests) == sorted(keys)
    morocco = {h["item"].rsplit("/", 1)[-1]: h for h in manifests["MAR"]["validation"]["held_back"]}
    assert "consular_registrations.yaml" in morocco
    assert "format" in morocco["consular_registrations.yaml"]["reason"]
    assert "LAB_DEPLOYD" in morocco["placements_abroad.yaml"]["reason"]
    # its sample file waits for the spec instead of being refused
    assert any(
        "waits for its spec" in h["reason"] and "immatriculations_consulaires" in h["item"]
        for h in morocco.values()
    )
    moldova = [h for h in manifests["MDA"]["validation"]["held_back"] if h["country"] != "*"]
    assert [h["source_id"] for h in moldova] == ["mda_border_emigration_return"]
    assert "emigrare_revenire_2015.csv" in moldova[0]["item"]
    assert all(h["country"] in ("MDA", "*") for h in moldova)  # Morocco's faults stay there
    assert [h for h in manifests["GEO"]["validation"]["held_back"] if h["country"] != "*"] == []
    morocco_edition = tmp_path / "snapshots" / "MAR" / manifests["MAR"]["version"]
    page = render_profile(morocco_edition, "en")
    assert "Sources held back from this edition" in page and "LAB_DEPLOYD" in page
    assert manifests["MAR"]["disclosure_control"]["threshold"] == 10
    # the rest of Morocco's ministry data still reached the profile
    by_indicator = manifests["MAR"]["row_counts"]["by_indicator"]
    assert by_indicator.get("IMM_PERMITS", 0) > 0  # residence permits (MAR_DGSN)
    # the refresh summary: published, with held-back files (`emp refresh` exits 4)
    settings = Settings(
        home=tmp_path, database=tmp_path / "emp.duckdb", snapshots=tmp_path / "snapshots"
    )
    said = summary(settings, keys, [result], {}, 1.0)
    assert said["success"] and said["failures"] == []
    assert {h["source_id"] for h in said["held_back"]} >= {
        "mar_consular_registrations",
        "mar_anapec_placements",
        "mda_border_emigration_return",
    }
    report = json.loads((tmp_path / "reports" / "validation" / "latest.json").read_text())
    items = " ".join(h["item"] for h in report["held_back_items"])
    assert "consular_registrations.yaml" in items and "emigrare_revenire_2015.csv" in items
