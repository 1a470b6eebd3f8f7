"""Publishers' releases in any edition, under any name: recognised by content, loaded as one
batch each with the edition as vintage, the newest edition preferred and the older kept."""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pandas as pd
import pytest

from indicators.compute import compute_indicators
from publish.diff import diff_snapshots
from sources.publishers.files import default_file
from sources.publishers.registry import NotRecognisedError, Release, recognise
from tests.publisher_layouts import stock, write_databank_csv, write_ims_workbook
from warehouse.core import rebuild_core, refresh_areas
from warehouse.releases import take_in_releases
from warehouse.schema import ensure_schema

YEARS_2020 = (1990, 1995, 2000, 2005, 2010, 2015, 2020)
YEARS_2024 = (*YEARS_2020, 2024)


def _obs(path: Path) -> tuple[Release, pd.DataFrame]:
    (release,) = recognise(path)
    return release, release.series.harmonise(release.read(path).frame)


def _value(frame: pd.DataFrame, **where) -> float:
    mask = pd.Series(True, index=frame.index)
    for column, value in where.items():
        mask &= frame[column] == value
    assert mask.sum() == 1, where
    return frame.loc[mask, "obs_value"].item()


@pytest.mark.parametrize(("edition", "years"), [(2020, YEARS_2020), (2024, YEARS_2024)])
def test_un_desa_later_layouts_are_read(tmp_path, edition, years):
    path = write_ims_workbook(tmp_path / f"undesa_pd_{edition}_ims_stock.xlsx", edition, years)
    release, obs = _obs(path)
    assert (release.source_id, release.edition) == ("un_desa_ims", str(edition))
    assert release.vintage == f"International Migrant Stock {edition}"
    last = str(years[-1])
    for sex, block in (("_T", "both sexes combined"), ("M", "males"), ("F", "females")):
        assert _value(obs, series="IMS_STOCK", ref_area="MDA", time_period=last, sex=sex) == stock(
            498, years[-1], block, edition
        )
    row = obs[(obs.series == "IMS_STOCK") & (obs.ref_area == "MDA")].iloc[0]
    assert (row.type_of_data, row.basis) == ("B R", "foreign_born")
    assert _value(obs, series="IMS_STOCK_PCT_POP", ref_area="GEO", time_period=last, sex="_T") > 0
    growth = set(obs[obs.series == "IMS_GROWTH"].time_period)
    assert f"{years[-2]}/{years[-1]}" in growth and "1990/1995" in growth
    assert "M49_151" in set(obs.ref_area)  # a region, kept apart by its code, never by name
    assert not obs.ref_area.str.contains(r"\*| ").any()


def test_un_desa_2019_edition_as_released():
    f = default_file("un_desa_ims")
    (release,) = recognise(f.path())
    assert (release.edition, release.order) == ("2019", "2019")
    assert "POP/DB/MIG/Stock/Rev.2019" in release.vintage


def test_wdi_databank_export_gives_each_declared_series(tmp_path):
    path = write_databank_csv(tmp_path / "Data_Extract_From_World_Development_Indicators.csv")
    found = recognise(path)
    assert [r.source_id for r in found] == ["wdi_population"]  # GDP is not declared
    (release,) = found
    assert release.edition == "2024-06-28"
    read = release.read(path)
    obs = release.series.harmonise(read.frame)
    assert _value(obs, ref_area="MAR", time_period="2023") == 37_457_971
    assert set(obs.series) == {"SP_POP_TOTL"} and set(obs.unit_measure) == {"PS"}
    assert len(obs) == 3  # Georgia 2023 is `..`: missing, not a value


def test_wdi_api_csv_is_recognised_under_any_name(tmp_path):
    original = default_file("wdi_remittances_paid").path()
    renamed = Path(shutil.copy(original, tmp_path / "remittances paid (download).csv"))
    (release,) = recognise(renamed)
    assert (release.source_id, release.edition) == ("wdi_remittances_paid", "2021-09-15")


def test_a_wdi_indicator_no_series_declares_is_named(tmp_path):
    original = default_file("wdi_remittances_paid").path()
    text = original.read_text(encoding="utf-8-sig").replace("BM.TRF.PWKR.CD.DT", "NY.GDP.MKTP.CD")
    other = tmp_path / "API_NY.GDP.MKTP.CD.csv"
    other.write_text(text, encoding="utf-8")
    with pytest.raises(NotRecognisedError, match=r"indicator NY\.GDP\.MKTP\.CD.*series\.yaml"):
        recognise(other)


@pytest.fixture()
def warehouse(tmp_path):
    con = duckdb.connect(str(tmp_path / "w.duckdb"))
    ensure_schema(con)
    refresh_areas(con)
    yield con
    con.close()


def _refresh(con, public: Path, inbox: Path) -> list:
    outcomes = take_in_releases(con, public, inbox)
    rebuild_core(con, {})
    compute_indicators(con, specs={})
    return outcomes


def _imm_stock(con, year: str) -> pd.DataFrame:
    return con.execute(
        "SELECT obs_value, preferred, source_vintages FROM marts.indicators "
        "WHERE indicator_id = 'IMM_STOCK' AND ref_area = 'MDA' AND sex = '_T' "
        "AND time_period = ? AND counterpart_area = '_T' ORDER BY preferred DESC",
        [year],
    ).df()


def _counts(con) -> tuple:
    return tuple(
        con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
        for t in ("meta.batches", "raw.un_desa_ims", "core.observations", "marts.indicators")
    )


@pytest.mark.slow
def test_editions_side_by_side_newest_preferred_older_kept(warehouse, tmp_path):
    con = warehouse
    public, inbox = tmp_path / "public", tmp_path / "inbox"
    (public / "un_desa").mkdir(parents=True)
    release_2019 = default_file("un_desa_ims").path()
    shutil.copy(release_2019, public / "un_desa" / release_2019.name)
    first = _refresh(con, public, inbox)
    assert [(o.source_id, o.status) for o in first] == [("un_desa_ims", "loaded")]
    stock_2015_old = _imm_stock(con, "2015").obs_value.item()
    assert _imm_stock(con, "2019").obs_value.item() == 104_713  # the publisher's value

    (inbox / "PUBLIC").mkdir(parents=True)
    dropped = inbox / "PUBLIC" / "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx"
    write_ims_workbook(dropped, 2020, YEARS_2020)
    second = _refresh(con, public, inbox)
    assert {(o.source_id, o.edition, o.status) for o in second} == {
        ("un_desa_ims", "2019", "unchanged"),
        ("un_desa_ims", "2020", "loaded"),
    }
    assert not dropped.exists()
    archived = list((tmp_path / "archive" / "PUBLIC").glob("*__undesa_pd_2020*.xlsx"))
    assert len(archived) == 1
    revised = _imm_stock(con, "2015")
    assert list(revised.preferred) == [True, False]
    assert revised.obs_value.tolist() == [
        stock(498, 2015, "both sexes combined", 2020),
        stock_2015_old,
    ]
    assert "International Migrant Stock 2020" in revised.source_vintages[0][0]
    assert "International Migrant Stock 2019" in revised.source_vintages[1][0]
    only_2019 = _imm_stock(con, "2019")  # a key the 2020 edition does not give stays
    assert only_2019.preferred.tolist() == [True] and only_2019.obs_value.item() == 104_713

    before = _counts(con)
    shutil.copy(release_2019, public / "un_desa" / "copy of the 2019 release.xlsx")
    third = _refresh(con, public, inbox)
    assert {o.status for o in third} == {"unchanged"}
    assert _counts(con) == before

    archived[0].unlink()  # the 2020 edition withdrawn
    _refresh(con, public, inbox)
    assert _imm_stock(con, "2015").obs_value.tolist() == [stock_2015_old]
    assert _imm_stock(con, "2020").empty
    history = con.execute("SELECT count(*) FROM meta.batches WHERE source_id = 'un_desa_ims'")
    assert history.fetchone()[0] == 2  # the withdrawn edition stays in the batch history


@pytest.mark.slow
def test_diff_lists_revised_values_apart_from_new_ones(warehouse, tmp_path):
    con = warehouse
    public, inbox = tmp_path / "public", tmp_path / "inbox"
    public.mkdir()
    release_2019 = default_file("un_desa_ims").path()
    shutil.copy(release_2019, public / release_2019.name)

    def snapshot(name: str) -> Path:
        folder = tmp_path / "snapshots" / name
        folder.mkdir(parents=True)
        con.execute(
            "COPY (SELECT * FROM marts.indicators WHERE ref_area = 'MDA') "
            f"TO '{folder / 'indicators.parquet'}' (FORMAT parquet)"
        )
        return folder

    _refresh(con, public, inbox)
    old = snapshot("20260101T000000Z")
    write_ims_workbook(
        public / "undesa_pd_2020_ims_stock_by_sex_and_destination.xlsx", 2020, YEARS_2020
    )
    _refresh(con, public, inbox)
    new = snapshot("20260401T000000Z")
    result = diff_snapshots(old, new)
    revised = [
        r
        for r in result["revised"]
        if r["indicator_id"] == "IMM_STOCK" and r["sex"] == "_T" and r["time_period"] == "2015"
    ]
    assert len(revised) == 1
    assert revised[0]["obs_value_new"] == stock(498, 2015, "both sexes combined", 2020)
    assert "2019" in revised[0]["edition_old"] and "2020" in revised[0]["edition_new"]
    added = {(r["indicator_id"], r["time_period"]) for r in result["added"]}
    assert ("IMM_STOCK", "2020") in added
    assert not [r for r in result["changed"] if r["indicator_id"] == "IMM_STOCK"]


def test_a_file_nothing_recognises_is_moved_aside_with_the_reason(warehouse, tmp_path):
    inbox = tmp_path / "inbox"
    (inbox / "PUBLIC").mkdir(parents=True)
    (inbox / "PUBLIC" / "notes.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (tmp_path / "public").mkdir()
    (outcome,) = take_in_releases(warehouse, tmp_path / "public", inbox)
    assert outcome.status == "not recognised"
    moved = Path(outcome.moved_to)
    assert moved.parent == tmp_path / "rejected" / "PUBLIC"
    reason = Path(f"{moved}.reason.txt").read_text(encoding="utf-8")
    assert "not a release of any declared publisher series" in reason
    held = warehouse.execute("SELECT item FROM meta.held_back WHERE source_id IS NULL")
    assert [Path(item).name for (item,) in held.fetchall()] == ["notes.csv"]


def test_a_damaged_release_holds_back_only_itself(warehouse, tmp_path):
    public = tmp_path / "public"
    public.mkdir()
    good = default_file("wdi_remittances_paid").path()
    shutil.copy(good, public / good.name)
    release_2019 = default_file("un_desa_ims").path()
    (public / "truncated.xlsx").write_bytes(release_2019.read_bytes()[:50_000])
    outcomes = {Path(o.file).name: o for o in take_in_releases(warehouse, public, None)}
    assert outcomes[good.name].status == "loaded"
    damaged = outcomes["truncated.xlsx"]
    assert damaged.status == "rejected" and "truncated or damaged" in damaged.message


def test_provenance_lists_the_series_and_edition_of_each_default_release():
    import csv

    from sources.data_home import PROVENANCE_FILE, _located

    with open(PROVENANCE_FILE, encoding="utf-8", newline="") as fh:
        rows = [r for r in csv.DictReader(fh) if r["path"].startswith("public/") and r["series"]]
    assert len(rows) == 14
    for row in rows:
        found = [r for r in recognise(_located(row["path"])) if isinstance(r, Release)]
        assert [(r.source_id, r.edition) for r in found] == [(row["series"], row["edition"])]


def _emp(*args: str) -> subprocess.CompletedProcess:
    cwd = Path(__file__).resolve().parents[1]
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        capture_output=True,
        text=True,
        cwd=cwd,
        timeout=300,
    )


@pytest.mark.slow
def test_emp_check_names_publisher_series_and_edition(tmp_path):
    path = write_ims_workbook(tmp_path / "undesa_pd_2024_ims_stock.xlsx", 2024, YEARS_2024)
    done = _emp("check", str(path))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "UN DESA Population Division" in done.stdout
    assert "series un_desa_ims" in done.stdout and "International Migrant Stock 2024" in done.stdout
    assert "values would load" in done.stdout
    report = json.loads(_emp("check", str(path), "--json").stdout)
    assert report[0]["edition"] == "International Migrant Stock 2024"
    assert report[0]["values"] == len(_obs(path)[1])


def test_emp_check_on_a_damaged_release_says_so_without_a_traceback(tmp_path):
    damaged = tmp_path / "UN_MigrantStockTotal_2019.xlsx"
    damaged.write_bytes(default_file("un_desa_ims").path().read_bytes()[:40_000])
    done = _emp("check", str(damaged))
    assert done.returncode == 1
    assert "truncated or damaged" in done.stdout and "Traceback" not in done.stdout + done.stderr


def test_a_bilateral_matrix_of_another_year(tmp_path):
    from openpyxl import Workbook

    labels = [
        "Afghanistan",
        "Albania",
        "Algeria",
        "Angola",
        "Argentina",
        "Armenia",
        "Australia",
        "Austria",
        "Azerbaijan",
        "Bangladesh",
        "World",
    ]
    book = Workbook()
    sheet = book.active
    sheet.title = "Remittance Matrix 2021"  # the year and kind are found in the title
    sheet["A1"] = (
        "Bilateral Remittance Estimates for 2021 (millions of US$) (December 2022 Version)"
    )
    sheet["A3"] = "receiving (across) / sending (down)"
    for c, label in enumerate(labels, start=2):
        sheet.cell(row=3, column=c, value=label)
    for r, label in enumerate(labels[:-1], start=4):
        sheet.cell(row=r, column=1, value=label)
        for c in range(2, len(labels) + 1):
            sheet.cell(row=r, column=c, value=float(r + c) if c <= len(labels) else 0.0)
    path = tmp_path / "bilateral_remittance_matrix_2021.xlsx"
    book.save(path)
    (release,) = recognise(path)
    assert (release.source_id, release.edition) == ("wb_bilateral_remittances", "2021")
    assert "December 2022 version" in release.vintage
    obs = release.series.harmonise(release.read(path).frame)
    assert set(obs.time_period) == {"2021"} and set(obs.unit_mult) == {6}
    assert _value(obs, ref_area="ALB", counterpart_area="AFG") == 4 + 3


def test_source_ids_that_named_an_edition_leave_core(warehouse):
    warehouse.execute(
        "INSERT INTO core.observations (series, ref_area, time_period, obs_value, source_id, "
        "batch_id) VALUES ('IMS_STOCK', 'MDA', '2019', 1, 'un_desa_ims_2019', 'old'), "
        "('IMS_STOCK', 'MDA', '2019', 1, 'mda_border_crossings', 'kept')"
    )
    rebuild_core(warehouse, {})
    left = warehouse.execute("SELECT source_id FROM core.observations").fetchall()
    assert left == [("mda_border_crossings",)]  # a ministry's rows are not touched


def test_a_unhcr_export_of_other_years_and_headings(tmp_path):
    path = tmp_path / "persons_of_concern.csv"
    path.write_text(
        '"Extracted:","United Nations High Commissioner for Refugees"\n'
        '"Last updated:","14 June 2025"\n'
        "\n"
        '"Year","Country of Origin","Country of Origin ISO","Country of Asylum",'
        '"Country of Asylum ISO","Refugees under UNHCR\'s mandate","Asylum-seekers",'
        '"Other people in need of international protection"\n'
        '2024,"Ukraine","UKR","Rep. of Moldova","MDA",1000,20,-\n'
        '2000,"Ukraine","UKR","Rep. of Moldova","MDA",5,0,-\n',
        encoding="utf-8",
    )
    (release,) = recognise(path)
    assert (release.source_id, release.edition) == ("unhcr_population", "2025-06-14")
    obs = release.series.harmonise(release.read(path).frame)
    assert _value(obs, series="UNHCR_REF", time_period="2024") == 1000
    assert set(obs.series) == {"UNHCR_REF", "UNHCR_ASY"}  # `-` and absent columns: no value
