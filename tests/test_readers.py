"""Each bundled file read as released; values pinned from the publishers' tables."""

from __future__ import annotations

import pandas as pd
import pytest

from sources.data_home import public_data_dir
from sources.publishers.files import default_file


@pytest.fixture(scope="module")
def un_desa() -> pd.DataFrame:
    f = default_file("un_desa_ims")
    return f.harmoniser(f.reader(f.path()).frame)


def _one(frame: pd.DataFrame, **where) -> pd.Series:
    mask = pd.Series(True, index=frame.index)
    for column, value in where.items():
        mask &= frame[column] == value
    rows = frame[mask]
    assert len(rows) == 1, f"{where}: {len(rows)} rows"
    return rows.iloc[0]


@pytest.mark.parametrize(
    ("iso3", "stock", "type_of_data", "basis"),
    [
        ("MAR", 98_574, "C", "foreign_citizen"),
        ("GEO", 79_035, "B", "foreign_born"),
        ("PHL", 218_530, "C R", "foreign_citizen"),
        ("MDA", 104_713, "B", "foreign_born"),
    ],
)
def test_un_desa_immigrant_stock_2019(un_desa, iso3, stock, type_of_data, basis):
    row = _one(un_desa, series="IMS_STOCK", ref_area=iso3, time_period="2019", sex="_T")
    assert row.obs_value == stock
    assert row.type_of_data == type_of_data
    assert row.basis == basis


def test_un_desa_shares_and_refugees(un_desa):
    pct = _one(un_desa, series="IMS_STOCK_PCT_POP", ref_area="MAR", time_period="2019", sex="_T")
    assert round(pct.obs_value, 3) == 0.270
    mda = _one(un_desa, series="IMS_STOCK_PCT_POP", ref_area="MDA", time_period="2019", sex="_T")
    assert round(mda.obs_value, 3) == 2.590
    female = _one(un_desa, series="IMS_FEMALE_PCT", ref_area="MAR", time_period="2019")
    assert female.obs_value == pytest.approx(49.80, abs=0.01)
    refugees = _one(un_desa, series="IMS_REFUGEES", ref_area="MAR", time_period="2019")
    assert refugees.obs_value == 6_779


@pytest.mark.parametrize("iso3", ["MAR", "MDA", "GEO", "PHL"])
def test_un_desa_tables_agree(un_desa, iso3):
    """Table 1 stock / Table 2 population (thousands) reproduces Table 3."""
    stock = _one(un_desa, series="IMS_STOCK", ref_area=iso3, time_period="2019", sex="_T")
    pop = _one(un_desa, series="IMS_POP", ref_area=iso3, time_period="2019", sex="_T")
    pct = _one(un_desa, series="IMS_STOCK_PCT_POP", ref_area=iso3, time_period="2019", sex="_T")
    assert pop.unit_mult == 3
    assert stock.obs_value / (pop.obs_value * 1000) * 100 == pytest.approx(pct.obs_value, rel=1e-4)


def test_un_desa_aggregates_keep_m49_codes(un_desa):
    world = _one(un_desa, series="IMS_STOCK", ref_area="M49_900", time_period="2019", sex="_T")
    assert world.obs_value == 271_642_105
    assert not un_desa["ref_area"].isna().any()


def test_un_desa_growth_periods_are_intervals(un_desa):
    growth = un_desa[(un_desa.series == "IMS_GROWTH") & (un_desa.ref_area == "MAR")]
    assert set(growth.time_period) == {
        "1990/1995",
        "1995/2000",
        "2000/2005",
        "2005/2010",
        "2010/2015",
        "2015/2019",
    }


@pytest.fixture(scope="module")
def migration_matrix() -> pd.DataFrame:
    f = default_file("wb_bilateral_migration")
    return f.harmoniser(f.reader(f.path()).frame)


@pytest.mark.parametrize(
    ("iso3", "emigrants"),
    [("MAR", 3_047_116), ("MDA", 1_024_551), ("PHL", 5_970_193), ("GEO", 875_753)],
)
def test_world_bank_emigrant_stock_is_row_total(migration_matrix, iso3, emigrants):
    rows = migration_matrix[migration_matrix.ref_area == iso3]
    total = _one(rows, counterpart_area="_T")
    assert total.obs_value == emigrants
    by_destination = rows[rows.counterpart_area != "_T"].obs_value.sum()
    assert by_destination == pytest.approx(emigrants)


def test_world_bank_labels_all_coded(migration_matrix):
    assert "Moldova" not in set(migration_matrix.ref_area)
    assert {"WLD", "WB_OTHER_NORTH", "WB_OTHER_SOUTH"} <= set(migration_matrix.ref_area)
    assert migration_matrix.ref_area.str.len().min() >= 3


@pytest.mark.parametrize(
    ("iso3", "usd_million"), [("MAR", 7_467), ("MDA", 1_640), ("PHL", 32_808), ("GEO", 1_794)]
)
def test_world_bank_remittance_inflows(iso3, usd_million):
    f = default_file("wb_bilateral_remittances")
    obs = f.harmoniser(f.reader(f.path()).frame)
    total = _one(obs, ref_area=iso3, counterpart_area="_T")
    assert round(total.obs_value) == usd_million
    assert total.unit_mult == 6


def test_wdi_api_csv_preamble_bom_trailing_comma():
    f = default_file("wdi_remittances_paid")
    read = f.reader(f.path())
    assert read.vintage == "World Development Indicators, last updated 2021-09-15"
    assert list(read.frame.columns) == [
        "source_row",
        "country_name",
        "country_code",
        "indicator_name",
        "indicator_code",
        "year",
        "value",
    ]
    assert set(read.frame.indicator_code) == {"BM.TRF.PWKR.CD.DT"}
    assert read.frame.year.min() == 1960 and read.frame.year.max() == 2020
    assert read.frame.country_name.iloc[0] == "Aruba"  # no BOM left in the first header


def test_wdi_legacy_xls():
    f = default_file("wdi_remittances_received")
    read = f.reader(f.path())
    assert read.vintage == "World Development Indicators, last updated 2023-05-10"
    phl = read.frame[(read.frame.country_code == "PHL") & read.frame.year.isin([2021, 2022])]
    values = dict(zip(phl.year, phl.value, strict=True))
    assert values[2022] < values[2021] / 2  # the publisher's partial-year 2022 value


def test_unhcr_population_dash_is_not_applicable():
    f = default_file("unhcr_population")
    read = f.reader(f.path())
    assert read.rejected == []
    assert read.vintage == "UNHCR, last updated 2024-06-13"
    first = read.frame.iloc[0]
    assert first.source_row == 16  # 14 preamble lines, the header on line 15
    assert pd.isna(first.other_in_need)


def test_unhcr_decisions_without_preamble():
    f = default_file("unhcr_asylum_decisions")
    read = f.reader(f.path())
    first = read.frame.iloc[0]
    assert (first.source_row, first.origin_iso, first.asylum_iso) == (2, "AFG", "AUS")
    assert (first.recognized, first.rejected, first.total) == (145, 36, 181)


def test_a_block_naming_another_measure_is_left_out_not_read_as_the_sheets(tmp_path):
    """UN DESA's 2020 refugee table: a growth-rate block beside the stock is left out with a
    note (never read as refugees, whose count cannot be negative), `~` is a missing mark."""
    from sources.readers import un_desa
    from tests.publisher_layouts import AREAS, write_ims_workbook

    years = (1990, 1995, 2000, 2005, 2010, 2015, 2020)
    path = write_ims_workbook(tmp_path / "ims_2020.xlsx", 2020, years, refugees=True)
    read = un_desa.read(path)
    refugees = read.frame[read.frame["sheet"] == "Table 6"]
    assert set(refugees["series"]) == {"IMS_REFUGEES"}
    assert (refugees["value"].dropna() >= 0).all() and len(refugees) == len(AREAS) * len(years)
    assert read.rejected == [] and refugees["value"].isna().sum() == 1  # Morocco 1990: `~`
    notes = " ".join(read.notes)
    assert "sheet 'Table 6': 1 cell(s) marked '~' read as missing" in notes
    assert "Growth rate of the refugee stock (%)" in notes and "not one EMP reads" in notes


def test_a_release_problem_names_its_sheet(tmp_path):
    import openpyxl

    from sources.check import check_release, plain_words
    from tests.publisher_layouts import write_ims_workbook

    years = (1990, 1995, 2000, 2005, 2010, 2015, 2020)
    path = write_ims_workbook(tmp_path / "ims_2020.xlsx", 2020, years)
    book = openpyxl.load_workbook(path)
    book["Table 1"].cell(row=14, column=6, value=-5)  # Georgia, 1990, both sexes
    book.save(path)
    (report,) = check_release(path)
    lines = [line for line in plain_words(report, "en") if "lies within" in line]
    assert lines and lines[0].startswith("ERROR: sheet 'Table 1', row 14"), lines


def test_rows_of_a_release_with_no_value_are_counted_in_its_notes():
    """The real WDI remittances-paid download: 20 areas have no value in any year; they are
    counted in the notes, not dropped unsaid."""
    from sources.readers import wdi

    path = public_data_dir() / "wdi" / "API_BM.TRF.PWKR.CD.DT_DS2_en_csv_v2_3012027.csv"
    read = wdi.read(path)
    notes = [n for n in read.notes if "with no value" in n]
    assert notes and notes[0].startswith("20 row(s) with no value"), read.notes
