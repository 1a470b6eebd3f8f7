"""Real statistics-office files read where they lie, each by a spec alone: the Philippines'
Commission on Filipinos Overseas, registered emigrants 1981-2020 (worked values from the data
README)."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import pytest

from sources.data_home import national_statistics_dir
from sources.specs import bundled_specs
from sources.submissions import harmonise_submission, read_submission

CFO = national_statistics_dir() / "PHL_CFO"


def _read(spec_id: str):
    spec = bundled_specs()[spec_id]
    path = next(CFO.glob(spec.file_pattern))
    read = read_submission(spec, path)
    return harmonise_submission(spec)(read.frame), read


def test_destinations_with_the_offices_own_spellings():
    obs, read = _read("phl_cfo_emigrants_destination")
    assert read.rejected == []
    in_1981 = obs[obs.time_period == "1981"]
    assert in_1981.obs_value.sum() == 48_867
    assert in_1981[in_1981.counterpart_area == "USA"].obs_value.item() == 40_307
    assert obs[obs.time_period == "2019"].obs_value.sum() == 65_164
    assert {"HKG", "CHN", "TWN", "ANT", "SCG", "UMI"} <= set(obs.counterpart_area)
    with open(next(CFO.glob("*AllCountries.csv")), encoding="utf-8") as fh:
        rows = {r[0]: r for r in csv.reader(fh)}
    header = rows["COUNTRY"]
    midway, wake = rows["MIDWAY ISLAND"], rows["WAKE ISLAND"]
    year = next(i for i in range(1, len(header)) if int(midway[i]) + int(wake[i]) > 0)
    umi = obs[(obs.counterpart_area == "UMI") & (obs.time_period == header[year])]
    assert umi.obs_value.item() == int(midway[year]) + int(wake[year])
    assert any("add up into one value" in note and "UMI" in note for note in read.notes)


def test_sex_file_adds_up_to_the_same_totals():
    obs, _ = _read("phl_cfo_emigrants_sex")
    assert obs[obs.time_period == "1981"].set_index("sex").obs_value.to_dict() == {
        "M": 20_350,
        "F": 28_517,
    }
    assert obs[obs.time_period == "2019"].obs_value.sum() == 65_164


def test_regions_valid_at_each_date():
    obs, read = _read("phl_cfo_emigrants_region")
    assert obs[(obs.ref_area == "PH-00") & (obs.time_period == "1988")].obs_value.item() == 25_370
    before = set(obs[obs.time_period == "2001"].ref_area)
    after = set(obs[obs.time_period == "2002"].ref_area)
    assert "PH-ST" in before and not {"PH-40", "PH-41"} & before
    assert {"PH-40", "PH-41"} <= after and "PH-ST" not in after
    assert any("left out on purpose" in note for note in read.notes)
    assert read.rejected == []


@pytest.mark.parametrize(
    ("spec_id", "dimension", "codes"),
    [
        ("phl_cfo_emigrants_age", "age", 14),
        ("phl_cfo_emigrants_education", "breakdown", 14),
    ],
)
def test_age_and_education_categories(spec_id, dimension, codes):
    obs, read = _read(spec_id)
    assert read.rejected == [] and obs[dimension].nunique() == codes


def test_the_profile_holds_the_real_flows(built):
    with duckdb.connect(str(built.database), read_only=True) as con:
        usa = con.execute(
            "SELECT obs_value FROM marts.indicators WHERE indicator_id = 'EMI_FLOW' "
            "AND ref_area = 'PHL' AND counterpart_area = 'USA' AND time_period = '1981'"
        ).fetchone()
        regions = con.execute(
            "SELECT count(DISTINCT ref_area) FROM marts.indicators "
            "WHERE indicator_id = 'EMI_FLOW' AND ref_area LIKE 'PH-%'"
        ).fetchone()
        notes = con.execute(
            "SELECT notes FROM meta.batches WHERE source_id = 'phl_cfo_emigrants_region'"
        ).fetchone()
    assert usa == (40_307,)
    assert regions[0] == 18  # 17 regions of today, and Southern Tagalog before 2002
    assert any("PH-ST" in note for note in notes[0])
    assert Path(CFO).is_dir()


def test_regional_series_are_available_to_baselines_with_the_regions_of_their_time(built):
    from datetime import date

    from indicators.baselines import BaselineRequest, baselines

    with duckdb.connect(str(built.database), read_only=True) as con:
        indicators = con.execute("SELECT * FROM marts.indicators").df()
    with open(next(CFO.glob("*PlaceOfOrigin.csv")), encoding="utf-8") as fh:
        rows = {r[0]: r for r in csv.reader(fh)}
    years = rows["REGION"]

    def reported(label: str, year: str) -> int:
        return int(rows[label][years.index(year)])

    for area, start, year, expected in (
        ("PH-40", date(2010, 1, 1), "2009", reported("Region IV A - CALABARZON", "2009")),
        (
            "PH-ST",
            date(2001, 6, 1),
            "2000",
            reported("Region IV A - CALABARZON", "2000")
            + reported("Region IV B - MIMAROPA", "2000"),
        ),
    ):
        request = BaselineRequest(
            id=f"phl-{area}",
            country="PHL",
            start=start,
            intervention_areas=[area],
            indicators=[{"id": "EMI_FLOW"}],
        )
        found = baselines(indicators, request)
        row = found[(found.ref_area == area) & (found.role == "intervention")].iloc[0]
        assert (row.time_period, row.obs_value) == (year, expected), area
