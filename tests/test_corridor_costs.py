"""SDG 10.c.1 by corridor: the World Bank's Remittance Prices Worldwide corridor export, read by
its content whatever its name and quarters, published by sending country beside WDI's average,
and pinned to the cells of the released file read here with the csv module."""

from __future__ import annotations

import csv
from pathlib import Path

import pandas as pd
import pytest

from sources.data_home import public_data_dir
from sources.publishers.registry import recognise

RELEASE = "wb_rpw/36d1ed87-9a2d-41da-8eac-c1c25d45fa65_Data.csv"


@pytest.fixture(scope="module")
def release() -> Path:
    path = public_data_dir() / RELEASE
    if not path.exists():
        pytest.skip(f"{path} is not in the shared data folder")
    return path


def _cell(path: Path, sending: str, receiving: str, quarter: str) -> float:
    with open(path, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header = [" ".join(c.split()) for c in rows[0]]
    column = next(i for i, c in enumerate(header) if c.startswith(quarter + " "))
    for row in rows[1:]:
        if len(row) > 5 and row[1] == sending and row[5] == receiving:
            return float(row[column])
    raise AssertionError(f"no {sending} -> {receiving} row")


def test_recognised_by_content_under_any_name_and_any_quarters(release, tmp_path):
    with open(release, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    keep = [i for i, c in enumerate(rows[0]) if not c.startswith(("2011", "2012"))]
    copy = tmp_path / "corridors export.csv"
    with open(copy, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows([[r[i] for i in keep if i < len(r)] for r in rows])
    for path in (release, copy):
        (found,) = recognise(path)
        assert found.series.id == "wb_rpw_corridors"
        assert found.edition == "2020-12-07"
    raw = found.read(copy)
    assert not raw.rejected
    observations = found.series.harmonise(raw.frame)
    assert observations["time_period"].min() == "2013-Q1"


def test_corridors_into_each_profile_country(release):
    (found,) = recognise(release)
    observations = found.series.harmonise(found.read(release).frame)
    corridors = observations.groupby("ref_area")["counterpart_area"].nunique()
    assert corridors[["GEO", "MAR", "MDA", "PHL"]].tolist() == [1, 7, 3, 14]
    assert (observations["obs_value"] < 0).any()  # exchange-rate gains kept as published
    assert "XKX" in set(observations["counterpart_area"]) | set(observations["ref_area"])


def test_france_to_morocco_2020q3_is_published_as_released(built, release):
    expected = _cell(release, "FRA", "MAR", "2020Q3")
    folder = max((built.snapshots / "MAR").iterdir())
    values = pd.read_parquet(folder / "indicators.parquet")
    row = values[
        (values.indicator_id == "REM_COST_CORRIDOR")
        & (values.counterpart_area == "FRA")
        & (values.time_period == "2020-Q3")
    ]
    assert row["obs_value"].tolist() == pytest.approx([expected])
    assert row["unit_measure"].tolist() == ["PT"]
    sources = row["source_vintages"].iloc[0]
    assert any("last updated 2020-12-07" in str(s) for s in sources)


def test_a_cell_that_is_not_a_number_is_rejected_with_its_row_and_quarter(release, tmp_path):
    with open(release, encoding="utf-8-sig", newline="") as handle:
        rows = list(csv.reader(handle))
    header = [" ".join(c.split()) for c in rows[0]]
    column = next(i for i, c in enumerate(header) if c.startswith("2020Q3 "))
    row = next(i for i, r in enumerate(rows) if len(r) > 5 and r[1] == "FRA" and r[5] == "MAR")
    rows[row][column] = "5,03 %"
    copy = tmp_path / "corridors.csv"
    with open(copy, "w", encoding="utf-8", newline="") as handle:
        csv.writer(handle).writerows(rows)
    (found,) = recognise(copy)
    raw = found.read(copy)
    (rejected,) = raw.rejected
    assert rejected["source_row"] == row + 1  # the file's line, header first
    record = rejected["raw_record"]
    assert record["sending"] == "FRA" and record["value"] == "5,03 %"
    assert rejected["reasons"][0].startswith("column '2020Q3")
    kept = raw.frame[(raw.frame.sending_code == "FRA") & (raw.frame.receiving_code == "MAR")]
    assert len(kept) > 10  # the corridor's other quarters load
