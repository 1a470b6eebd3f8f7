"""UNHCR's other populations (asylum-seekers, stateless persons, internally displaced persons of
concern), hosted and by origin, pinned to sums worked here from the released population.csv
with the csv module."""

from __future__ import annotations

import csv

import pandas as pd
import pytest

from sources.data_home import public_data_dir


def _worked(column: str, year: str, **where: str) -> float:
    path = public_data_dir() / "unhcr" / "population.csv"
    if not path.exists():
        pytest.skip(f"{path} is not in the shared data folder")
    with open(path, encoding="utf-8", newline="") as handle:
        rows = list(csv.reader(handle))
    start = next(i for i, row in enumerate(rows) if row and row[0] == "Year")
    header = rows[start]
    total = 0.0
    for row in rows[start + 1 :]:
        record = dict(zip(header, row, strict=False))
        if record.get("Year") != year or any(record.get(k) != v for k, v in where.items()):
            continue
        if record[column] not in ("-", ""):
            total += float(record[column])
    return total


def _published(built, country: str, indicator: str, year: str) -> float:
    folder = max((built.snapshots / country).iterdir())
    values = pd.read_parquet(folder / "indicators.parquet")
    row = values[
        (values.indicator_id == indicator)
        & (values.counterpart_area == "_T")
        & (values.time_period == year)
    ]
    (value,) = row["obs_value"].tolist()
    return value


@pytest.mark.parametrize(
    ("country", "indicator", "column", "side"),
    [
        ("GEO", "IDP_CONCERN", "IDPs of concern to UNHCR", "Country of asylum (ISO)"),
        ("MAR", "ASY_SEEKERS_HOSTED", "Asylum-seekers", "Country of asylum (ISO)"),
        ("MAR", "ASY_SEEKERS_ABROAD", "Asylum-seekers", "Country of origin (ISO)"),
        ("GEO", "STATELESS_HOSTED", "Stateless persons", "Country of asylum (ISO)"),
    ],
)
def test_each_population_equals_the_release(built, country, indicator, column, side):
    expected = _worked(column, "2023", **{side: country})
    assert _published(built, country, indicator, "2023") == pytest.approx(expected)


def test_georgia_idps_2023(built):
    """The one row of the release: Georgia, origin and asylum Georgia, 295,831 IDPs."""
    assert _published(built, "GEO", "IDP_CONCERN", "2023") == 295_831
