"""Every overlap reconciled: a statistics office's SDG 17.3.2 against WDI's, the difference
kept and flagged, and the years WDI lacks published as a flagged break, never silently."""

from __future__ import annotations

import shutil

import duckdb
import pytest

from indicators.compute import compute_indicators
from publish.exports import open_sdg_frame, sdmx_frame
from sources.publishers.files import default_file
from sources.specs import load_spec
from warehouse.core import rebuild_core, refresh_areas
from warehouse.ingest import ingest_file
from warehouse.releases import take_in_releases
from warehouse.schema import ensure_schema

OFFICE_FILE = "Year,Units,Value\n2020,Percentage,15.8\n2021,Percentage,15.0\n2022,Percentage,13.1\n"
OFFICE_SPEC = """id: mda_sdg_17_3_2
version: 1
ministry: MDA_BNS
ministry_name: Biroul Național de Statistică
dataset: SDG 17.3.2 on the national reporting platform
country: MDA
format: open_sdg
open_sdg:
  indicator: 17-3-2
  series: MDA_SDG_REMITTANCES_GDP
  unit: PT
  stat_type: ratio
  rows: {Units: [Percentage]}
"""


@pytest.fixture(scope="module")
def warehouse(tmp_path_factory):
    root = tmp_path_factory.mktemp("overlaps")
    public = root / "public"
    public.mkdir()
    wdi = default_file("wdi_remittances_gdp").path()
    shutil.copy(wdi, public / wdi.name)
    spec_path = root / "specs" / "MDA_BNS" / "sdg.yaml"
    spec_path.parent.mkdir(parents=True)
    spec_path.write_text(OFFICE_SPEC, encoding="utf-8")
    spec = load_spec(spec_path)
    data = root / "inbox" / "MDA_BNS" / "indicator_17-3-2.csv"
    data.parent.mkdir(parents=True)
    data.write_text(OFFICE_FILE, encoding="utf-8")
    con = duckdb.connect(str(root / "w.duckdb"))
    ensure_schema(con)
    refresh_areas(con)
    take_in_releases(con, public, None)
    assert ingest_file(con, "MDA_BNS", data, {spec.id: spec}).status == "loaded"
    rebuild_core(con, {spec.id: spec})
    compute_indicators(con, specs={spec.id: spec})
    yield con
    con.close()


def test_the_difference_is_computed_stored_and_flagged(warehouse):
    rows = warehouse.execute(
        "SELECT time_period, preferred_source, preferred_value, other_source, other_value, "
        "difference, relative_difference, flagged FROM marts.overlaps "
        "WHERE ref_area = 'MDA' ORDER BY time_period"
    ).fetchall()
    assert [r[0] for r in rows] == ["2020", "2021"]  # WDI has no 2022
    _, preferred, wdi, other, office, difference, relative, flagged = rows[1]
    assert (preferred, other) == ("wdi_remittances_gdp", "mda_sdg_17_3_2")
    assert wdi == pytest.approx(15.49306, abs=1e-5) and office == 15.0
    assert difference == pytest.approx(15.0 - wdi)
    assert relative == pytest.approx((15.0 - wdi) / wdi) and not flagged  # -3.2 %, within 5 %


def test_a_year_the_preferred_source_lacks_is_a_flagged_break(warehouse):
    frame = warehouse.execute(
        "SELECT * FROM marts.indicators WHERE ref_area = 'MDA' AND preferred "
        "AND indicator_id = (SELECT DISTINCT indicator_id FROM marts.overlaps)"
    ).df()
    by_year = frame.set_index("time_period")
    assert by_year.loc["2022", "obs_status"] == "B"
    assert list(by_year.loc["2022", "source_ids"]) == ["mda_sdg_17_3_2"]
    assert by_year.loc["2021", "obs_status"] == "A"
    sdmx = sdmx_frame(frame, __import__("indicators.catalogue").catalogue.catalogue(), sdg=True)
    assert sdmx.loc[sdmx.TIME_PERIOD == "2022", "OBS_STATUS"].item() == "B"
    open_sdg = open_sdg_frame(frame, "MDA", {})
    status = open_sdg.set_index("Year")["Observation status"]
    assert status[2022].startswith("Break in series") and status[2021] == ""


def test_the_catalogue_sets_the_tolerance_per_indicator(warehouse):
    from dataclasses import replace

    from indicators.catalogue import catalogue
    from indicators.overlaps import compute_overlaps

    def strict(tolerance):
        return [
            replace(i, extra={**i.extra, "overlap_tolerance": tolerance})
            if i.sdg_indicator == "17.3.2"
            else i
            for i in catalogue()
        ]

    compute_overlaps(warehouse, strict(0.01))
    flagged = warehouse.execute(
        "SELECT time_period, tolerance FROM marts.overlaps WHERE flagged AND ref_area = 'MDA'"
    ).fetchall()
    assert ("2021", 0.01) in flagged
    compute_overlaps(warehouse, catalogue())  # as it was
