"""Project registry, logframe reports, and sub-national areas that change over time."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from sources.geography import admin_area_on, admin_areas, current_codes
from sources.observations import FileLayoutError
from sources.projects import read_logframe, read_registry, registry_codes, write_logframe
from sources.samples import NATIONAL_DATA_DIR

REPORTS = NATIONAL_DATA_DIR / "PROJECTS"


def test_registry_has_the_51_jmdi_projects():
    registry = read_registry()
    assert len(registry) == 51 and registry.project_code.is_unique
    morocco = registry.set_index("project_code").loc["Morocco-32"]
    assert morocco.country == "MAR"
    assert "Khouribga" in morocco.title
    assert set(registry.loc[registry.country == "MDA", "project_code"]) == {
        f"Moldova-{n}" for n in range(27, 32)
    }


def test_former_moroccan_region_codes_mean_what_they_meant_then():
    before, after = date(2012, 6, 30), date(2019, 6, 30)
    assert admin_area_on("MA-04", before)["name"] == "L'Oriental"
    assert admin_area_on("MA-04", after)["name"] == "Rabat-Salé-Kénitra"
    assert current_codes("MA-04", before) == ["MA-02"]  # L'Oriental is now MA-02
    assert current_codes("MA-09", before) == ["MA-05", "MA-06"]  # Chaouia-Ouardigha was split
    assert admin_area_on("MA-16", after) is None  # 16 regions until 2015, 12 since
    assert admin_area_on("MA-KHO", before)["parent_code"] == "MA-05"


def test_moldova_districts_and_development_regions():
    areas = admin_areas()
    districts = areas[(areas.country == "MDA") & (areas.level == "district")]
    assert len(districts) == 32
    regions = areas[areas.level == "development_region"].set_index("code")
    members = [m for codes in regions.members for m in codes]
    assert len(members) == len(set(members)) == 37 - 2  # every unit but Bender and the left bank
    assert "MD-SO" in regions.loc["MD-RD-NORD", "members"]


def test_sample_reports_read_and_link(built):
    for path in sorted(REPORTS.glob("logframe_*.xlsx")):
        read = read_logframe(path, registry_codes())
        assert read.rejected == [], path.name
        assert set(read.frame.data_status) == {
            "SYNTHETIC sample: values invented for testing; the JMDI handbook gives no budgets "
            "or outcome figures"
        }
    linked = built.query(
        "SELECT project_code, emp_indicator_id FROM core.project_indicators "
        "WHERE linked_to_catalogue ORDER BY 1"
    )
    assert list(linked.itertuples(index=False, name=None)) == [
        ("Moldova-29", "LAB_ABROAD"),
        ("Moldova-31", "REM_IN_USD"),
        ("Morocco-32", "REM_IN_USD"),
    ]
    areas = built.query(
        "SELECT area_code, area_name, current_codes FROM core.project_areas "
        "WHERE project_code = 'Morocco-33' ORDER BY 1"
    )
    assert areas.area_name.tolist() == ["L'Oriental", "Nador"]
    assert list(areas.current_codes[0]) == ["MA-02"]


def test_values_per_kind_and_period(built):
    values = built.query(
        "SELECT value_kind, period, value FROM core.project_values "
        "WHERE project_code = 'Morocco-32' AND indicator_code = 'MIDEF-1' "
        "ORDER BY value_kind, period"
    )
    kinds = values.value_kind.tolist()
    assert kinds == ["actual", "actual", "actual", "baseline", "target"]
    assert values.period.tolist()[:3] == ["2011-S1", "2011-S2", "2012-S1"]
    actual = values[values.value_kind == "actual"].value.tolist()
    assert actual == sorted(actual) and 0 <= actual[0] <= actual[-1] <= 120


def _report(tmp_path: Path, code: str, areas: list[str], when: date) -> Path:
    rows = [
        {
            "Indicator code": "X-1",
            "Indicator": "People trained",
            "Unit": "persons",
            "Sex": "Total",
            "Baseline value": 0,
            "Baseline date": "2018-12-31",
            "Target value": 50,
            "Target date": "2020-12-31",
            "actual": {"2019": 20},
            "areas": areas,
        }
    ]
    return write_logframe(
        tmp_path / f"logframe_{code}.xlsx", code, "2019", when, "SYNTHETIC test", rows, ["2019"]
    )


def test_unknown_project_is_refused(tmp_path):
    path = _report(tmp_path, "Atlantis-99", ["MA-01"], date(2019, 12, 31))
    with pytest.raises(FileLayoutError, match=r"row 2, column 'B': project code 'Atlantis-99'"):
        read_logframe(path, registry_codes())


def test_area_not_valid_at_the_report_date_is_quarantined(tmp_path):
    path = _report(tmp_path, "Morocco-34", ["MA-16"], date(2019, 12, 31))
    read = read_logframe(path, registry_codes())
    assert read.frame.empty
    assert read.rejected[0]["source_row"] == 8
    assert read.rejected[0]["reasons"] == [
        "column 'Intervention areas': 'MA-16' was not an admin area on 2019-12-31"
    ]


def test_blank_template_reads_as_no_rows(tmp_path):
    path = write_logframe(
        tmp_path / "logframe_blank.xlsx",
        "Moldova-27",
        "2019",
        date(2019, 6, 30),
        "blank",
        [],
        ["2019"],
    )
    read = read_logframe(path, registry_codes())
    assert read.frame.empty and read.rejected == []
