"""Source specs: checked with a clear message per mistake; a new ministry file is onboarded with a
YAML file and no Python change."""

from __future__ import annotations

import shutil
from pathlib import Path

import dagster as dg
import pandas as pd
import pytest

from indicators.catalogue import catalogue_ids, load_catalogue
from pipelines.assets import ALL_ASSETS
from sources.samples import NATIONAL_DATA_DIR
from sources.specs import (
    SPECS_DIR,
    SpecError,
    bundled_specs,
    load_spec,
    load_spec_set,
    load_specs,
)
from tests.conftest import warehouse_resource


def test_bundled_specs_cover_three_countries_real_and_synthetic():
    specs = bundled_specs()
    assert {s.country for s in specs.values()} == {"MAR", "MDA", "PHL"}
    assert {s.format for s in specs.values()} == {"csv", "xlsx"}
    real = {s.id for s in specs.values() if not s.synthetic}
    assert real == {s.id for s in specs.values() if s.ministry == "PHL_CFO"} and len(real) == 5


def test_every_mistake_is_reported_with_its_place(tmp_path: Path):
    bad = tmp_path / "bad.yaml"
    bad.write_text(
        """
id: Bad-Id
version: 0
ministry: X
ministry_name: x
dataset: x
country: MA
file_pattern: "*.csv"
format: docx
delimeter: ";"
encoding: klingon-8
period: {frequency: quarter, from_filename: '(?P<year>\\d{4})'}
columns:
  Sexe: {dimension: gender, codes: {H: M}}
  Pays: {dimension: counterpart_area}
measures:
  N: {series: n, unit: PS, stat_type: stock}
""",
        encoding="utf-8",
    )
    with pytest.raises(SpecError) as err:
        load_spec(bad)
    message = str(err.value)
    for expected in (
        "bad.yaml:",
        "id: String should match pattern",
        "version: Input should be greater than or equal to 1",
        "country: String should match pattern",
        "format: Input should be 'csv', 'xlsx', 'xls' or 'parquet'",
        "delimeter: Extra inputs are not permitted",
        "encoding: Value error, unknown encoding 'klingon-8'",
        "must have the named groups ['quarter', 'year']",
        "columns.Sexe.dimension: Input should be",
        "an area column needs `codes`, `country_names` or `code_list`",
        "measures.N.series: String should match pattern",
    ):
        assert expected in message, expected


def test_a_feed_to_an_unknown_indicator_is_caught(tmp_path: Path):
    folder = tmp_path / "specs"
    shutil.copytree(SPECS_DIR, folder)
    path = folder / "MAR_ANAPEC" / "placements_abroad.yaml"
    path.write_text(path.read_text().replace("LAB_DEPLOYED", "LAB_DEPLOYD"), encoding="utf-8")
    found = load_spec_set(folder, catalogue_ids())
    assert "mar_anapec_placements" not in found.specs
    assert len(found.specs) == len(load_specs(SPECS_DIR)) - 1  # the others stay in force
    (held,) = found.held_back
    assert held.ministry == "MAR_ANAPEC" and held.matches("placements_international_2020.csv")
    assert "feeds 'LAB_DEPLOYD', which is not in the indicator catalogue" in held.reason
    load_catalogue(specs=found.specs, held_back={held.id})  # the catalogue itself is fine


GEORGIA_SPEC = """
id: geo_emigration_monthly
version: 1
ministry: GEO_PSDA
ministry_name: Public Service Development Agency
dataset: Citizens who left Georgia, by month, destination and sex
country: GEO
synthetic: true
file_pattern: "emigration_*.parquet"
format: parquet
period:
  frequency: month
  column: month
  pattern: '(?P<year>\\d{4})-(?P<month>\\d{2})'
constants:
  ref_area: GEO
columns:
  destination: {dimension: counterpart_area, country_names: en}
  sex: {dimension: sex, codes: {male: M, female: F}}
measures:
  persons:
    series: GEO_PSDA_EMIGRANTS
    unit: PS
    stat_type: flow
    basis: citizens_departed
    feeds: [{indicator: EMI_FLOW}]
"""


@pytest.mark.slow
def test_onboarding_a_new_file_needs_only_a_yaml(tmp_path: Path):
    """A Parquet file from a Georgian agency, a new spec, and a refresh: no Python change."""
    specs = tmp_path / "specs"
    shutil.copytree(SPECS_DIR, specs)
    (specs / "GEO_PSDA").mkdir()
    (specs / "GEO_PSDA" / "emigration_monthly.yaml").write_text(GEORGIA_SPEC, encoding="utf-8")
    national = tmp_path / "national"
    shutil.copytree(NATIONAL_DATA_DIR, national)
    (national / "GEO_PSDA").mkdir()
    pd.DataFrame(
        {
            "month": ["2019-01", "2019-01", "2019-02", "2019-02"],
            "destination": ["Russian Federation", "Greece", "Russian Federation", "Türkiye"],
            "sex": ["male", "female", "female", "male"],
            "persons": [410, 380, 295, 120],
        }
    ).to_parquet(national / "GEO_PSDA" / "emigration_2019.parquet")

    resource = warehouse_resource(tmp_path, specs_dir=str(specs), national_data_dir=str(national))
    result = dg.materialize(
        ALL_ASSETS,
        resources={"warehouse": resource},
        selection=dg.AssetSelection.groups("raw", "core", "marts"),
    )
    assert result.success
    import duckdb

    with duckdb.connect(str(tmp_path / "emp.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT counterpart_area, time_period, sex, obs_value, preferred, source_ids "
            "FROM marts.indicators WHERE indicator_id = 'EMI_FLOW' AND ref_area = 'GEO' "
            "AND computed IS NULL "
            "ORDER BY time_period, counterpart_area"
        ).fetchall()
    assert rows == [
        ("GRC", "2019-01", "F", 380.0, True, ["geo_emigration_monthly"]),
        ("RUS", "2019-01", "M", 410.0, True, ["geo_emigration_monthly"]),
        ("RUS", "2019-02", "F", 295.0, True, ["geo_emigration_monthly"]),
        ("TUR", "2019-02", "M", 120.0, True, ["geo_emigration_monthly"]),
    ]
