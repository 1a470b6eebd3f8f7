"""Onboarding files as statistics offices really lay them out, with a YAML spec alone: one file
per feature of the spec format, each loaded through the same path as a dropped file."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from sources.specs import load_spec
from warehouse.ingest import ingest_file
from warehouse.schema import ensure_schema

HEAD = """version: 1
ministry: {ministry}
ministry_name: A statistics office
dataset: A test dataset
file_pattern: "{name}"
format: csv
"""


def onboard(tmp_path: Path, ministry: str, name: str, text: str, spec_yaml: str):
    """Write the file and its spec, load the file as a dropped file; return (outcome, core)."""
    spec_path = tmp_path / "specs" / ministry / "spec.yaml"
    spec_path.parent.mkdir(parents=True, exist_ok=True)
    spec_path.write_text(HEAD.format(ministry=ministry, name=name) + spec_yaml, encoding="utf-8")
    spec = load_spec(spec_path)
    path = tmp_path / "inbox" / ministry / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schema(con)
    outcome = ingest_file(con, ministry, path, {spec.id: spec})
    from sources.submissions import harmonise_submission
    from warehouse.core import rebuild_source

    frame = pd.DataFrame()
    if outcome.batch is not None:
        rebuild_source(con, spec.id, [outcome.batch.batch_id], harmonise_submission(spec))
        frame = con.execute(
            "SELECT * FROM core.observations UNION ALL BY NAME "
            "SELECT * FROM core.aggregate_observations"
        ).df()
    notes = con.execute("SELECT notes FROM meta.batches").fetchone()[0] if outcome.batch else None
    quarantined = con.execute("SELECT count(*) FROM meta.quarantine").fetchone()[0]
    con.close()
    return outcome, frame, list(notes or []), quarantined


def value(frame: pd.DataFrame, **where) -> float:
    mask = pd.Series(True, index=frame.index)
    for column, wanted in where.items():
        mask &= frame[column] == wanted
    assert mask.sum() == 1, where
    return frame.loc[mask, "obs_value"].item()


def test_rows_selected_by_a_label_give_two_measures_with_their_units(tmp_path):
    text = (
        "Indicator,Year,Value\n"
        ",2021,15.0\n"
        "Volume of personal remittances,2021,2100.5\n"
        ",2022,14.2\n"
        "Volume of personal remittances,2022,2180.0\n"
    )
    spec = """id: remittances_by_label
country: MDA
period: {frequency: year, column: Year}
constants: {ref_area: MDA}
measures:
  share_of_gdp:
    column: Value
    rows: {Indicator: [""]}
    series: MDA_REM_GDP
    unit: PT
    stat_type: ratio
  volume:
    column: Value
    rows: {Indicator: [Volume of personal remittances]}
    series: MDA_REM_USD
    unit: USD
    unit_mult: 6
    stat_type: flow
"""
    outcome, core, _, quarantined = onboard(tmp_path, "MDA_BNM", "rem.csv", text, spec)
    assert outcome.status == "loaded" and quarantined == 0
    assert value(core, series="MDA_REM_GDP", time_period="2021") == 15.0
    volume = core[(core.series == "MDA_REM_USD") & (core.time_period == "2022")]
    assert volume.obs_value.item() == 2180.0 and volume.unit_mult.item() == 6


def test_columns_that_fill_a_dimension_on_different_rows(tmp_path):
    text = (
        "Year,Sex,Activity,Workers\n"
        "2020,Men,,120\n"
        "2020,Women,,80\n"
        "2020,,Construction,90\n"
        "2020,,Agriculture,110\n"
    )
    spec = """id: workers_abroad
country: MDA
period: {frequency: year, column: Year}
constants: {ref_area: MDA}
columns:
  Sex: {dimension: sex, codes: {Men: M, Women: F}, blank: _T}
  Activity: {dimension: breakdown, codes: {Construction: F, Agriculture: A}, blank: _T}
measures:
  Workers: {series: MDA_WORKERS_ABROAD, unit: PS, stat_type: stock}
"""
    outcome, core, _, quarantined = onboard(tmp_path, "MDA_BNS", "w.csv", text, spec)
    assert outcome.status == "loaded" and quarantined == 0
    assert value(core, sex="F", breakdown="_T") == 80
    assert value(core, sex="_T", breakdown="A") == 110


def test_two_columns_into_one_dimension_and_a_row_that_gives_both(tmp_path):
    text = "Year,By sex,By group,N\n2020,Men,,5\n2020,,Students,7\n2020,Men,Students,9\n"
    spec = """id: two_columns_one_dimension
country: MDA
period: {frequency: year, column: Year}
constants: {ref_area: MDA}
columns:
  By sex: {dimension: breakdown, codes: {Men: SEX_M}, blank: _T}
  By group: {dimension: breakdown, codes: {Students: STUDENTS}, blank: _T}
measures:
  N: {series: MDA_N, unit: PS, stat_type: stock}
"""
    outcome, core, _, quarantined = onboard(tmp_path, "MDA_X", "n.csv", text, spec)
    assert outcome.status == "loaded" and quarantined == 1  # the row that gives both
    assert set(core.breakdown) == {"SEX_M", "STUDENTS"}


def test_several_labels_summed_into_one_code_and_recorded(tmp_path):
    text = "Country,2019\nMIDWAY ISLAND,3\nWAKE ISLAND,4\nFRANCE,10\n"
    spec = """id: labels_summed
country: PHL
period: {frequency: year, columns: '(?P<year>\\d{4})', measure: N}
constants: {ref_area: PHL}
columns:
  Country:
    dimension: counterpart_area
    country_names: en
    sum_labels: true
    codes: {MIDWAY ISLAND: UMI, WAKE ISLAND: UMI}
measures:
  N: {series: PHL_N, unit: PS, stat_type: flow}
"""
    outcome, core, notes, _ = onboard(tmp_path, "PHL_X", "c.csv", text, spec)
    assert outcome.status == "loaded"
    assert value(core, counterpart_area="UMI") == 7
    assert any("rows 2, 3 add up" in n and "UMI" in n for n in notes)


def test_labels_dropped_on_purpose_are_not_quarantined(tmp_path):
    text = "Region,2019\nNorth,5\nTotal,9\nUnknown,4\n"
    spec = """id: dropped_labels
country: MDA
period: {frequency: year, columns: '(?P<year>\\d{4})', measure: N}
columns:
  Region:
    dimension: ref_area
    codes: {North: MD-RD-NORD}
    drop:
      Total: a total row; the profile adds up the regions itself
      Unknown: region not reported
measures:
  N: {series: MDA_N, unit: PS, stat_type: flow}
"""
    outcome, core, notes, quarantined = onboard(tmp_path, "MDA_Y", "r.csv", text, spec)
    assert outcome.status == "loaded" and quarantined == 0
    assert list(core.ref_area) == ["MD-RD-NORD"]
    assert sum("left out on purpose" in n for n in notes) == 2


@pytest.mark.parametrize(
    ("kind", "cells"),
    [("iso3", ("FRA", "ita")), ("iso2", ("FR", "IT")), ("m49", ("250", "380"))],
)
def test_columns_of_codes(tmp_path, kind, cells):
    text = f"Code,Name,2019\n{cells[0]},Frankreich,1\n{cells[1]},Italien,2\n"
    spec = f"""id: codes_{kind}
country: MAR
period: {{frequency: year, columns: '(?P<year>\\d{{4}})', measure: N}}
constants: {{ref_area: MAR}}
columns:
  Code: {{dimension: counterpart_area, code_list: {kind}}}
measures:
  N: {{series: MAR_N, unit: PS, stat_type: stock}}
"""
    outcome, core, _, quarantined = onboard(tmp_path, "MAR_Z", "k.csv", text, spec)
    assert outcome.status == "loaded" and quarantined == 0
    assert set(core.counterpart_area) == {"FRA", "ITA"}


def test_a_file_covering_many_reporting_countries(tmp_path):
    text = (
        "Receiving country,Sending country,2021\n"
        "MDA,ITA,500\nMAR,FRA,900\nGEO,RUS,300\nPHL,USA,1200\n"
    )
    spec = """id: corridors
country: "*"
period: {frequency: year, columns: '(?P<year>\\d{4})', measure: USD}
columns:
  Receiving country: {dimension: ref_area, code_list: iso3}
  Sending country: {dimension: counterpart_area, code_list: iso3}
measures:
  USD: {series: REM_CORRIDOR, unit: USD, unit_mult: 6, stat_type: flow}
"""
    outcome, core, _, _ = onboard(tmp_path, "KNOMAD", "corridors.csv", text, spec)
    assert outcome.status == "loaded"
    assert set(core.ref_area) == {"MDA", "MAR", "GEO", "PHL"}


def test_declared_codes_for_dissolved_and_non_iso_entities(tmp_path):
    text = "Destination,2005\nNetherlands-Antilles,3\nSomaliland,2\nNetherlands,8\n"
    spec = """id: declared_entities
country: PHL
period: {frequency: year, columns: '(?P<year>\\d{4})', measure: N}
constants: {ref_area: PHL}
areas: {XSL: Somaliland}
columns:
  Destination:
    dimension: counterpart_area
    country_names: en
    codes: {Netherlands-Antilles: ANT, Somaliland: XSL}
measures:
  N: {series: PHL_N, unit: PS, stat_type: flow}
expectations:
  - {rule: area_codes, column: counterpart_area}
"""
    outcome, core, _, quarantined = onboard(tmp_path, "PHL_Y", "d.csv", text, spec)
    assert outcome.status == "loaded" and outcome.batch.validation == "passed", outcome
    assert quarantined == 0
    assert set(core.counterpart_area) == {"ANT", "XSL", "NLD"}


def test_an_open_sdg_data_file_feeds_the_indicator_of_its_number(tmp_path):
    from indicators.catalogue import catalogue
    from indicators.compute import compute_indicators

    text = (
        "Year,Units,Sex,Value\n"
        "2020,Percentage,,15.2\n"
        "2021,Percentage,,15.0\n"
        "2022,Percentage,,13.1\n"
        "2021,Millions USD,,2100\n"
        "2021,Percentage,Female,9.9\n"
    )
    spec = """id: mda_sdg_17_3_2
country: MDA
format: open_sdg
open_sdg:
  indicator: 17-3-2
  series: MDA_SDG_REMITTANCES_GDP
  unit: PT
  stat_type: ratio
  rows: {Units: [Percentage]}
"""
    outcome, core, notes, quarantined = onboard(
        tmp_path, "MDA_BNS", "indicator_17-3-2.csv", text, spec
    )
    assert outcome.status == "loaded" and quarantined == 0
    assert sorted(core.time_period) == ["2020", "2021", "2022"]  # Sex is not mapped: noted
    assert any("'Sex'" in n for n in notes) and any("selected by no measure" in n for n in notes)
    spec_obj = load_spec(tmp_path / "specs" / "MDA_BNS" / "spec.yaml")
    indicator = next(i for i in catalogue() if i.sdg_indicator == "17.3.2")
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    compute_indicators(con, [indicator], {spec_obj.id: spec_obj})
    rows = con.execute(
        "SELECT time_period, obs_value, source_ids FROM marts.indicators ORDER BY 1"
    ).fetchall()
    con.close()
    assert rows[1][:2] == ("2021", 15.0) and rows[1][2] == ["mda_sdg_17_3_2"]
