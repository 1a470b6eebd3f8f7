"""Internationally mobile students from UNESCO UIS: inbound as published, outbound derived as
inbound minus UIS's net flow (inbound - outbound) and flagged estimated, pinned to the rows of
the released files read here with the csv module."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from sources.data_home import public_data_dir


def _uis(file: str, indicator: str, area: str, year: str) -> tuple[float, str]:
    path = public_data_dir() / "unesco_uis" / file
    if not path.exists():
        pytest.skip(f"{path} is not in the shared data folder")
    with open(path, encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            if (row["indicatorId"], row["geoUnit"], row["year"]) == (indicator, area, year):
                return float(row["value"]), row["qualifier"]
    raise AssertionError(f"no {indicator} {area} {year}")


def _published(built, indicator: str, year: str) -> pd.Series:
    folder = max((built.snapshots / "MAR").iterdir())
    values = pd.read_parquet(folder / "indicators.parquet")
    (row,) = values[
        (values.indicator_id == indicator)
        & (values.ref_area == "MAR")
        & (values.time_period == year)
    ].to_dict(orient="records")
    return row


def test_morocco_inbound_students_2022_as_published(built):
    value, qualifier = _uis("inbound_intl.csv", "26637", "MAR", "2022")
    row = _published(built, "STU_INBOUND", "2022")
    assert row["obs_value"] == value == 23_584
    assert row["obs_status"] == ("E" if qualifier else "A")


def test_morocco_outbound_students_2022_derived_and_flagged(built):
    inbound, _ = _uis("inbound_intl.csv", "26637", "MAR", "2022")
    net, qualifier = _uis("inbound-outbound_intl.csv", "MENF.5T8", "MAR", "2022")
    assert qualifier == "UIS_EST"
    row = _published(built, "STU_OUTBOUND", "2022")
    assert row["obs_value"] == inbound - net == 74_289
    assert row["obs_status"] == "E"
    assert any("uis_net_flow_students" in s for s in row["source_ids"])
