"""Each sample ministry file read by its spec; values checked against the file itself and the
real data the generator was calibrated on."""

from __future__ import annotations

import csv
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from sources.data_home import national_statistics_dir
from sources.samples import NATIONAL_DATA_DIR, generate_all, wdi_value
from sources.specs import bundled_specs
from sources.submissions import harmonise_submission, read_submission

SPECS = bundled_specs()


def _read(spec_id: str) -> tuple[pd.DataFrame, list]:
    spec = SPECS[spec_id]
    folder = NATIONAL_DATA_DIR if spec.synthetic else national_statistics_dir()
    path = next((folder / spec.ministry).glob(spec.file_pattern))
    read = read_submission(spec, path)
    return harmonise_submission(spec)(read.frame), read.rejected


def test_every_sample_file_loads_without_rejects():
    for spec_id in SPECS:
        obs, rejected = _read(spec_id)
        assert rejected == [], spec_id
        assert len(obs) > 10, spec_id


def test_consular_registrations_latin1_semicolons_comma_decimals():
    obs, _ = _read("mar_consular_registrations")
    path = NATIONAL_DATA_DIR / "MAR_MAE" / "immatriculations_consulaires_2019.csv"
    with open(path, encoding="latin-1", newline="") as fh:
        lines = list(csv.reader(fh, delimiter=";"))
    assert lines[0][0] == "Pays de résidence"
    france_men = next(row for row in lines if row[0] == "France" and row[1] == "H")
    counts = obs[obs.series == "MAR_CONSULAR_REGISTERED"]
    fra_m = counts[(counts.counterpart_area == "FRA") & (counts.sex == "M")].obs_value.item()
    assert fra_m == int(france_men[2].replace(" ", ""))
    share = obs[obs.series == "MAR_CONSULAR_REGISTERED_SHARE"]
    fra_share = share[(share.counterpart_area == "FRA") & (share.sex == "M")].obs_value.item()
    assert fra_share == float(france_men[3].replace(",", "."))
    total = counts[counts.counterpart_area == "_T"].obs_value.item()
    assert total == counts[counts.counterpart_area != "_T"].obs_value.sum()
    assert set(counts.time_period) == {"2019"}
    assert (counts.basis == "citizens_registered_at_consulates").all()


def test_consular_registrations_are_a_plausible_share_of_world_bank_stock(built):
    frame = built.query(
        """
        SELECT c.counterpart_area, sum(c.obs_value) / any_value(w.obs_value) AS ratio
        FROM core.observations c
        JOIN core.observations w ON w.series = 'WB_MIG_STOCK_BILAT' AND w.ref_area = 'MAR'
             AND w.counterpart_area = c.counterpart_area
        WHERE c.series = 'MAR_CONSULAR_REGISTERED' AND c.sex <> '_T' AND c.counterpart_area <> '_T'
        GROUP BY 1
        """
    )
    assert len(frame) >= 20
    assert frame.ratio.between(0.5, 1.0).all()


def test_quarterly_remittances_add_up_to_wdi_annual_total():
    obs, _ = _read("mar_remittances_quarterly")
    totals = obs[obs.counterpart_area == "_T"]
    assert sorted(totals.time_period) == ["2019-Q1", "2019-Q2", "2019-Q3", "2019-Q4"]
    assert (totals.unit_mult == 6).all() and (totals.unit_measure == "USD").all()
    wdi = wdi_value("wdi_remittances_received", "MAR", 2019) / 1e6
    assert totals.obs_value.sum() == pytest.approx(wdi, abs=0.11)
    senders = obs[obs.counterpart_area != "_T"]
    assert "_O" in set(senders.counterpart_area)  # "Autres pays"
    assert senders.obs_value.sum() == pytest.approx(totals.obs_value.sum(), abs=0.5)


def test_remittance_workbook_keeps_its_titles_and_footer():
    book = openpyxl.load_workbook(NATIONAL_DATA_DIR / "MAR_OC" / "transferts_mre_2019.xlsx")
    sheet = book["Transferts"]
    assert sheet["A1"].value == "Office des Changes"
    assert sheet.cell(sheet.max_row, 1).value.startswith("Note : Données synthétiques")


def test_placements_by_sector_and_permits_by_purpose():
    placements, _ = _read("mar_anapec_placements")
    assert set(placements.breakdown) <= {
        "ISIC4_A",
        "ISIC4_C",
        "ISIC4_F",
        "ISIC4_I",
        "ISIC4_Q",
        "ISIC4_T",
    }
    spain = placements[(placements.counterpart_area == "ESP") & (placements.breakdown == "ISIC4_A")]
    assert spain[spain.sex == "F"].obs_value.item() > spain[spain.sex == "M"].obs_value.item()
    permits, _ = _read("mar_residence_permits")
    assert set(permits.sex) == {"M", "F"}  # from the two columns under the merged header
    assert {"PURPOSE_WORK", "PURPOSE_FAMILY", "PURPOSE_STUDY"} <= set(permits.breakdown)
    assert "DZA" in set(permits.counterpart_area)


def test_moldovan_files_with_romanian_labels():
    border, _ = _read("mda_border_emigration_return")
    assert {"RUS", "ITA", "_O"} <= set(border.counterpart_area)  # Rusia, Italia, Alte țări
    assert set(border.series) == {"MDA_BORDER_EMIGRANTS", "MDA_BORDER_RETURNEES"}
    lfs, _ = _read("mda_lfs_working_abroad")
    assert (lfs.unit_mult == 3).all()
    total = lfs[(lfs.counterpart_area == "_T") & (lfs.sex == "_T")].obs_value.item()
    parts = lfs[(lfs.counterpart_area != "_T") & (lfs.sex == "_T")].obs_value.sum()
    assert total == pytest.approx(parts, abs=0.2)


def test_national_values_reach_the_indicators_in_persons(built):
    frame = built.query(
        "SELECT obs_value, unit_mult FROM marts.indicators WHERE indicator_id = 'LAB_ABROAD' "
        "AND ref_area = 'MDA' AND counterpart_area = '_T' AND sex = '_T'"
    )
    lfs, _ = _read("mda_lfs_working_abroad")
    thousands = lfs[(lfs.counterpart_area == "_T") & (lfs.sex == "_T")].obs_value.item()
    assert frame.obs_value.item() == pytest.approx(thousands * 1000)
    assert frame.unit_mult.item() == 0


def test_generator_is_seeded(tmp_path: Path):
    first = generate_all(tmp_path / "a", seed=7)
    second = generate_all(tmp_path / "b", seed=7)
    for a, b in zip(first, second, strict=True):
        if a.suffix == ".csv":
            assert a.read_bytes() == b.read_bytes()
        else:
            assert pd.read_excel(a, header=None).equals(pd.read_excel(b, header=None))
    other = generate_all(tmp_path / "c", seed=8)
    assert first[0].read_bytes() != other[0].read_bytes()
