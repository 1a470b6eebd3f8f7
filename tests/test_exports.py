"""Exports frozen in each snapshot: Open SDG CSV + metadata YAML, and SDMX-CSV, checked against
the rules of each format."""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import pytest
import yaml

from indicators.catalogue import catalogue
from publish.exports import NATIONAL_DIMENSIONS, SDG_DIMENSIONS, open_sdg_id
from publish.snapshots import list_snapshots

#: Indicators whose sources publish totals: their headline rows have every disaggregation blank.
WITH_TOTALS = {"10-7-4", "17-3-2", "emp-imm-stock", "emp-cen-foreign-born", "emp-ref-hosted"}
PERIOD = {"A": r"^\d{4}$", "Q": r"^\d{4}-Q[1-4]$", "M": r"^\d{4}-\d{2}$"}


def exports(built, country: str) -> Path:
    return Path(list_snapshots(built.snapshots, country)[-1]["path"]) / "exports"


def rows_of(path: Path) -> tuple[list[str], list[list[str]]]:
    with path.open(newline="", encoding="utf-8") as handle:
        header, *rows = list(csv.reader(handle))
    return header, rows


@pytest.mark.parametrize("country", ["MAR", "MDA"])
def test_open_sdg_files_follow_the_format(built, country):
    folder = exports(built, country) / "open-sdg"
    data_files = sorted((folder / "data").glob("indicator_*.csv"))
    assert len(data_files) == len(catalogue())
    with_data = 0
    for path in data_files:
        header, rows = rows_of(path)
        assert header[0] == "Year" and header[-1] == "Value", path.name
        key = path.stem.removeprefix("indicator_")
        meta = yaml.safe_load((folder / "meta" / f"{key}.yml").read_text(encoding="utf-8"))
        assert meta["indicator_number"] and meta["indicator_name"]
        assert meta["reporting_status"] == ("complete" if rows else "notstarted")
        if not rows:
            continue
        with_data += 1
        assert all(len(r) == len(header) for r in rows)
        assert all(re.fullmatch(r"\d{4}", r[0]) for r in rows)
        status = header.index("Observation status") if "Observation status" in header else None
        # a value, or an empty value with its reason (confidential, cannot exist)
        assert all((r[-1] != "" and float(r[-1]) == float(r[-1])) or r[status] for r in rows)
        keys = [tuple(r[:-1]) for r in rows]
        assert len(keys) == len(set(keys)), f"{path.name}: duplicate rows"
        # not disaggregations: observation attributes (Open SDG `observation_attributes`)
        attributes = ("Series", "Units", "Observation status", "Data type")
        disaggregations = [i for i, c in enumerate(header[1:-1], 1) if c not in attributes]
        headline = [r for r in rows if all(r[i] == "" for i in disaggregations)]
        if key in WITH_TOTALS:
            assert headline, f"{path.name}: no headline (total) rows"
    assert with_data >= 15


def test_open_sdg_pins_real_values(built):
    frame = pd.read_csv(exports(built, "MDA") / "open-sdg" / "data" / "indicator_10-7-4.csv")
    # Moldova's refugees (all of Moldova) over WDI's population (without Transnistria)
    assert list(frame.columns) == ["Year", "Series", "Units", "Observation status", "Value"]
    assert set(frame["Observation status"]) == {"Definition differs"}
    assert frame.loc[frame.Year == 2023, "Value"].item() == pytest.approx(216.92, abs=0.01)
    labour = pd.read_csv(
        exports(built, "MAR")
        / "open-sdg"
        / "data"
        / "indicator_emp-cen-labour-by-migrant-status.csv",
        keep_default_na=False,
    )
    assert {"Migrant", "Non-migrant", ""} == set(labour["Migratory status"])
    assert {"Female", "Male", ""} == set(labour["Sex"])


@pytest.mark.parametrize("country", ["GEO", "MAR", "MDA", "PHL"])
def test_every_published_value_is_in_its_open_sdg_file_or_said_why_not(built, country):
    folder = exports(built, country) / "open-sdg"
    snapshot = exports(built, country).parent
    published = pd.read_parquet(snapshot / "indicators.parquet")
    for indicator in catalogue():
        key = open_sdg_id(indicator)
        meta = yaml.safe_load((folder / "meta" / f"{key}.yml").read_text(encoding="utf-8"))
        _, rows = rows_of(folder / "data" / f"indicator_{key}.csv")
        total = int((published["indicator_id"] == indicator.id).sum())
        left = meta["emp_values_left_out"]
        assert meta["emp_values_published"] == total, key
        assert meta["emp_values_in_file"] == len(rows), key
        assert len(rows) + sum(left.values()) == total, key
        if left:
            assert meta["data_footnote"] and "not here" in meta["data_footnote"], key
            french = yaml.safe_load(
                (folder / "meta" / "fr" / f"{key}.yml").read_text(encoding="utf-8")
            )
            assert "not here" not in french["data_footnote"], key


def test_quarterly_values_are_in_the_open_sdg_files(built):
    """Morocco's quarterly remittances (the Office des Changes' file) are published by quarter."""
    folder = exports(built, "MAR") / "open-sdg" / "data"
    remittances = pd.read_csv(folder / "indicator_emp-rem-in-usd.csv", keep_default_na=False)
    quarterly = remittances[remittances["Quarter"] != ""]
    assert set(quarterly["Quarter"]) == {"Q1", "Q2", "Q3", "Q4"}
    assert set(quarterly["Year"]) == {2019}


@pytest.mark.parametrize(
    "name,dimensions", [("sdg", SDG_DIMENSIONS), ("national", NATIONAL_DIMENSIONS)]
)
def test_sdmx_csv_follows_the_format(built, name, dimensions):
    header, rows = rows_of(exports(built, "MDA") / "sdmx" / f"{name}.csv")
    assert header[0] == "DATAFLOW" and tuple(header[1 : 1 + len(dimensions)]) == dimensions
    assert header[1 + len(dimensions)] == "OBS_VALUE"
    assert rows
    column = {c: i for i, c in enumerate(header)}
    flows = {r[0] for r in rows}
    assert flows == ({"IAEG-SDGs:DF_SDG_GLH(1.0)"} if name == "sdg" else {"EMP:DF_EMP_MDA(1.0)"})
    keys = set()
    for r in rows:
        assert len(r) == len(header)
        assert all(r[column[d]] for d in dimensions), r  # no empty dimension: totals are _T
        assert re.match(PERIOD[r[column["FREQ"]]], r[column["TIME_PERIOD"]])
        value = r[column["OBS_VALUE"]]
        assert (
            value != "" or r[column["OBS_STATUS"]] in ("M", "L") or r[column["CONF_STATUS"]] == "C"
        )
        if value:
            float(value)
        keys.add(tuple(r[column[d]] for d in dimensions))
    assert len(keys) == len(rows), "a series key repeats"
    areas = {r[column["REF_AREA"]] for r in rows}
    assert "498" in areas  # Moldova by its M49 code
    if name == "sdg":
        assert {r[column["SERIES"]] for r in rows} == {
            "SM_POP_REFG_OR",
            "SI_RMT_COST",
            "BX_TRF_PWKR",
            "SM_DTH_MIGR",  # one death IOM records in Moldova (2022)
        }
        assert areas == {"498"}
        refugees = [
            r
            for r in rows
            if r[column["SERIES"]] == "SM_POP_REFG_OR" and r[column["TIME_PERIOD"]] == "2023"
        ]
        assert float(refugees[0][column["OBS_VALUE"]]) == pytest.approx(216.92, abs=0.01)
    else:
        statuses = {r[column["COMPOSITE_BREAKDOWN"]] for r in rows}
        assert {"MS_MIGRANT", "MS_NOMIGRANT", "_T"} <= statuses
        assert any(a.startswith("MD-") for a in areas)  # sub-national by ISO 3166-2


def test_exports_are_listed_with_checksums_in_the_manifest(built):
    import json

    folder = Path(list_snapshots(built.snapshots, "MAR")[-1]["path"])
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    names = {f["name"] for f in manifest["files"]}
    assert "exports/sdmx/sdg.csv" in names and "exports/open-sdg/meta/10-7-4.yml" in names
