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
