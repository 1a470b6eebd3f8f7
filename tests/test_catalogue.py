"""The indicator catalogue is declarative and checked."""

from __future__ import annotations

import pytest

from indicators.catalogue import CatalogueError, catalogue, load_catalogue

REQUIRED_IDS = {
    "IMM_STOCK",
    "IMM_STOCK_PCT",
    "IMM_FEMALE_PCT",
    "IMM_STOCK_GROWTH",
    "EMI_STOCK",
    "EMI_RATE",
    "REF_HOSTED",
    "REF_ABROAD",
    "SDG_10_7_4",
    "ASY_RECOGNITION",
    "REM_IN_USD",
    "REM_OUT_USD",
    "SDG_17_3_2",
    "SDG_10_c_1",
    "REM_CORRIDOR_USD",
}


def test_catalogue_has_every_core_indicator_with_metadata():
    entries = {i.id: i for i in catalogue()}
    assert set(entries) >= REQUIRED_IDS
    assert entries["SDG_10_7_4"].sdmx_series == "SM_POP_REFG_OR"
    assert entries["SDG_17_3_2"].sdmx_series == "BX_TRF_PWKR"
    assert entries["SDG_10_c_1"].sdmx_series == "SI_RMT_COST"
    assert entries["SDG_10_7_4"].sdg_indicator == "10.7.4"
    assert entries["EMI_RATE"].sources == ("wb_bilateral_migration", "wdi_population")
    for entry in entries.values():
        assert entry.part in {"A", "B", "Annex"} and entry.module and entry.definition


def test_catalogue_mistakes_are_all_reported(tmp_path):
    bad = tmp_path / "catalogue.yaml"
    bad.write_text(
        """
indicators:
  - id: X1
    name: no method
    part: A
    module: m
    definition: d
    formula: f
    unit: PS
    sources: [un_desa_ims]
  - id: X2
    name: wrong part and source
    part: Z
    module: m
    definition: d
    formula: f
    unit: PS
    sources: [ministry_of_nowhere]
    method: immigrant_stock
""",
        encoding="utf-8",
    )
    with pytest.raises(CatalogueError) as err:
        load_catalogue(bad)
    message = str(err.value)
    assert "entry 1 (X1): missing method" in message
    assert "entry 2 (X2): part 'Z'" in message
    assert "unknown sources ['ministry_of_nowhere']" in message


NATIONAL_ENTRY = """indicators:
  - id: NAT_EMI_WOMEN_SHARE
    name: Women among registered emigrants
    part: A
    module: Emigration and diaspora
    definition: Registered emigrants who are women, as the national office reports them.
    formula: national series, as reported
    unit: PS
    sources: [phl_cfo_emigrants_sex]
    method: national
"""


def test_a_working_group_adds_a_national_indicator_without_editing_the_project(
    tmp_path, monkeypatch
):
    from indicators.catalogue import catalogue, catalogue_ids
    from sources.specs import load_spec_set

    folder = tmp_path / "catalogue"
    folder.mkdir()
    (folder / "national.yaml").write_text(NATIONAL_ENTRY, encoding="utf-8")
    specs = tmp_path / "specs" / "PHL_X"
    specs.mkdir(parents=True)
    (specs / "women.yaml").write_text(
        """id: phl_women_emigrants
version: 1
ministry: PHL_X
ministry_name: A national office
dataset: Women emigrants
country: PHL
file_pattern: "women_*.csv"
format: csv
period: {frequency: year, column: Year}
constants: {ref_area: PHL, sex: F}
measures:
  Women: {series: PHL_W, unit: PS, stat_type: flow, feeds: [{indicator: NAT_EMI_WOMEN_SHARE}]}
""",
        encoding="utf-8",
    )
    without = load_spec_set(tmp_path / "specs", catalogue_ids())
    assert without.held_back and "not in the indicator catalogue" in without.held_back[0].reason
    monkeypatch.setenv("EMP_CATALOGUE", str(folder))
    assert "NAT_EMI_WOMEN_SHARE" in catalogue_ids()
    assert "NAT_EMI_WOMEN_SHARE" in {i.id for i in catalogue()}
    with_entry = load_spec_set(tmp_path / "specs", catalogue_ids())
    assert not with_entry.held_back and "phl_women_emigrants" in with_entry.specs


def test_an_entry_of_the_working_group_is_checked_like_the_bundled_ones(tmp_path, monkeypatch):
    from indicators.catalogue import CatalogueError, load_catalogue

    folder = tmp_path / "catalogue"
    folder.mkdir()
    (folder / "bad.yaml").write_text(
        NATIONAL_ENTRY.replace("NAT_EMI_WOMEN_SHARE", "IMM_STOCK").replace("part: A", "part: Z"),
        encoding="utf-8",
    )
    monkeypatch.setenv("EMP_CATALOGUE", str(folder))
    with pytest.raises(CatalogueError) as err:
        load_catalogue()
    text = str(err.value)
    assert "bad.yaml entry 1 (IMM_STOCK): duplicate id" in text and "part 'Z'" in text
