"""What an evaluator estimates with, added to a baseline panel: time relative to the
intervention (`event_time`, `first_treated`), the outcome per 1,000 residents where EMP holds the
area's population, how many clusters an inference rests on, and the donor table a synthetic
control reads (pysyncon's `Dataprep`, R's `Synth::dataprep`).

Everything works on frames shaped like a snapshot's panel and indicators, so it gives the same
answer at refresh time and when `emp baseline` reads a published snapshot.
"""

from __future__ import annotations

import re
from datetime import date, timedelta

import numpy as np
import pandas as pd

from indicators.census import age_as_total, series_definitions

#: Below these, cluster-robust standard errors are known to be far too small.
FEW_TREATED_CLUSTERS = 5
FEW_CLUSTERS = 30
#: The outcome's unit that a rate per 1,000 residents makes sense of (persons).
COUNT_UNITS = {"PS"}
NEVER_TREATED = "0"

#: A period as the indicators write it: 2019, 2019-S1, 2019-Q2, 2019-06.
PERIOD_PATTERN = re.compile(r"^(?P<y>\d{4})(?:-(?:Q(?P<q>[1-4])|S(?P<s>[12])|(?P<m>\d{2})))?$")
_PER_YEAR = {"A": 1, "S": 2, "Q": 4, "M": 12}


def period_position(period: object) -> tuple[str, int] | None:
    """A period's frequency and its number on that frequency's scale: 2010 -> (A, 2010),
    2010-Q1 -> (Q, 8040); None for a period that is not one of these."""
    match = PERIOD_PATTERN.match(str(period))
    if not match:
        return None
    year = int(match["y"])
    for freq, group in (("Q", "q"), ("S", "s"), ("M", "m")):
        if match[group]:
            return freq, year * _PER_YEAR[freq] + int(match[group]) - 1
    return "A", year


def period_label(freq: str, position: int) -> str:
    """The inverse of `period_position`."""
    if freq == "A":
        return str(position)
    year, index = divmod(position, _PER_YEAR[freq])
    return f"{year}-{freq}{index + 1}" if freq in ("Q", "S") else f"{year}-{index + 1:02d}"


def first_treated_position(start: date, freq: str) -> int:
    """The first period of frequency `freq` that ends after `start` (the first treated one)."""
    per_year = _PER_YEAR[freq]
    containing = start.year * per_year + (start.month - 1) * per_year // 12
    year, index = divmod(containing, per_year)
    last_month = (index + 1) * 12 // per_year
    ends = (
        date(year + 1, 1, 1) if last_month == 12 else date(year, last_month + 1, 1)
    ) - timedelta(days=1)
    return containing if ends > start else containing + 1


def add_event_time(panel: pd.DataFrame, start: date) -> pd.DataFrame:
    """`first_treated`: the first period after the start for intervention areas, "0" for areas
    never treated (the convention csdid and pyfixest read); `event_time`: periods since that
    first treated period (0 for it, -1 for the last period before the start), empty for areas
    never treated."""
    panel = panel.copy()
    positions = panel["time_period"].map(period_position)
    first = positions.map(lambda p: None if p is None else first_treated_position(start, p[0]))
    treated = panel["treated"].astype(bool)
    panel["first_treated"] = [
        period_label(p[0], f) if t and p is not None else NEVER_TREATED
        for p, f, t in zip(positions, first, treated, strict=True)
    ]
    panel["event_time"] = pd.array(
        [
            p[1] - f if t and p is not None else None
            for p, f, t in zip(positions, first, treated, strict=True)
        ],
        dtype="Int64",
    )
    return panel


def census_populations(indicators: pd.DataFrame, labels: dict[str, str]) -> pd.DataFrame:
    """Usual residents by area and census year: the weighted denominator of the census shares
    of all residents (every sex, age and status), where the cell is published."""
    of_all = [s for s, spec in series_definitions().items() if spec.denominator == "all"]
    rows = indicators[indicators["series"].isin(of_all)]
    if rows.empty:
        return pd.DataFrame(columns=["ref_area", "time_period", "population", "population_source"])
    total = (
        (rows["sex"] == "_T")
        & (age_as_total(rows["age"]) == "_T")
        & (rows["migrant_status"] == "_T")
        & (rows["counterpart_area"] == "_T")
        & (rows["breakdown"] == "_T")
        & (rows["conf_status"].fillna("F") != "C")
        & rows["weight_sum"].notna()
    )
    rows = rows[total]
    found = pd.DataFrame(
        {
            "ref_area": rows["ref_area"],
            "time_period": rows["time_period"].astype(str),
            "population": rows["weight_sum"].astype(float),
            "population_source": [
                labels.get(ids[0], ids[0]) if len(ids) else "" for ids in rows["source_ids"]
            ],
        }
    )
    return found.drop_duplicates(["ref_area", "time_period"]).reset_index(drop=True)


def add_rates(panel: pd.DataFrame, populations: pd.DataFrame | None) -> pd.DataFrame:
    """Beside each count, the area's population in the period (with its source) and the
    outcome per 1,000 residents; empty where EMP holds no population for the area and period."""
    panel = panel.copy()
    if populations is None or populations.empty:
        populations = pd.DataFrame(
            columns=["ref_area", "time_period", "population", "population_source"]
        )
    key = panel["ref_area"] + "|" + panel["time_period"].astype(str)
    table = populations.assign(
        key=populations["ref_area"] + "|" + populations["time_period"].astype(str)
    ).drop_duplicates("key")
    population = key.map(table.set_index("key")["population"]).astype(float)
    source = key.map(table.set_index("key")["population_source"])
    usable = (
        panel["unit_measure"].isin(COUNT_UNITS) & (panel["status"] == "value") & population.gt(0)
    )
    panel["population"] = population.where(usable)
    panel["population_source"] = source.where(usable)
    panel["rate_per_1000"] = (panel["obs_value"] / population * 1000).where(usable)
    return panel


def design(panel: pd.DataFrame) -> pd.DataFrame:
    """Per indicator and series: the clusters (areas with a value) an inference rests on, how
    many are treated, and whether cluster-robust standard errors can be trusted with so few."""
    columns = ["indicator_id", "series", "clusters", "treated_clusters", "few_clusters"]
    valued = panel[panel["status"] == "value"]
    if valued.empty:
        return pd.DataFrame(columns=columns)
    rows = []
    for (indicator, series), group in valued.groupby(["indicator_id", "series"], sort=True):
        clusters = group["ref_area"].nunique()
        treated = group.loc[group["treated"].astype(bool), "ref_area"].nunique()
        few = treated < FEW_TREATED_CLUSTERS or clusters < FEW_CLUSTERS
        rows.append((indicator, series, clusters, treated, few))
    return pd.DataFrame(rows, columns=columns)


def donor_table(
    panel: pd.DataFrame, indicators: pd.DataFrame, start: date
) -> tuple[pd.DataFrame, list[tuple[str, str, int]]]:
    """For each intervention area (and indicator, series, breakdown): its outcome and that of
    every comparison area with a value in each of its periods (the donors), one row per area
    and period, with census shares as predictors where every area of the table has one.
    Also (intervention area, comparison area, periods it lacks) for each area left out."""
    valued = panel[panel["status"] == "value"]
    keys = ["indicator_id", "series", "sex", "age", "migrant_status"]
    parts, left_out = [], []
    for _, rows in valued.groupby(keys, sort=True):
        periods_of = rows.groupby("ref_area")["time_period"].agg(set)
        treated = sorted(rows.loc[rows["treated"].astype(bool), "ref_area"].unique())
        comparison = sorted(rows.loc[~rows["treated"].astype(bool), "ref_area"].unique())
        for area in treated:
            needed = periods_of[area]
            donors = []
            for other in comparison:
                missing = needed - periods_of[other]
                if missing:
                    left_out.append((area, other, len(missing)))
                else:
                    donors.append(other)
            if not donors:
                continue
            table = rows[rows["ref_area"].isin([area, *donors]) & rows["time_period"].isin(needed)]
            table = table.assign(
                intervention_area=area,
                role=np.where(table["ref_area"] == area, "intervention", "donor"),
                outcome=table["obs_value"],
            )
            parts.append(_with_predictors(table, indicators, start))
    if not parts:
        return pd.DataFrame(columns=DONOR_COLUMNS), left_out
    donors = pd.concat(parts, ignore_index=True)
    if donors["time_period"].astype(str).str.fullmatch(r"\d{4}").all():
        donors["time_period"] = donors["time_period"].astype(int)  # a year is a number to Synth
    predictors = sorted(c for c in donors.columns if c.startswith(PREDICTOR_PREFIX))
    ordered = [c for c in DONOR_COLUMNS if c in donors.columns] + predictors
    order = ["indicator_id", "series", "sex", "age", "migrant_status", "intervention_area"]
    donors = donors.assign(_donor=donors["role"] == "donor").sort_values(
        [*order, "_donor", "ref_area", "time_period"]
    )
    return donors[ordered].reset_index(drop=True), left_out


PREDICTOR_PREFIX = "predictor_"
DONOR_COLUMNS = [
    "request_id",
    "indicator_id",
    "series",
    "sex",
    "age",
    "migrant_status",
    "intervention_area",
    "ref_area",
    "area_name",
    "role",
    "time_period",
    "post",
    "outcome",
    "unit_measure",
    "synthetic",
]


def _with_predictors(table: pd.DataFrame, indicators: pd.DataFrame, start: date) -> pd.DataFrame:
    """Census shares of the table's areas (every sex, age and status), the latest census on or
    before the start, as `predictor_<series>` columns; a share missing for any area is left out."""
    from indicators.baselines import period_end

    areas = set(table["ref_area"])
    shares = indicators[
        (indicators["unit_measure"] == "PT")
        & indicators["ref_area"].isin(areas)
        & indicators["series"].isin(series_definitions())
        & (indicators["sex"] == "_T")
        & (age_as_total(indicators["age"]) == "_T")
        & (indicators["migrant_status"] == "_T")
        & (indicators["counterpart_area"] == "_T")
        & (indicators["breakdown"] == "_T")
        & indicators["obs_value"].notna()
    ]
    before = [(period_end(p) or start) <= start for p in shares["time_period"]]
    shares = shares.loc[np.array(before, dtype=bool)]
    outcomes = set(table["series"])
    for series, rows in shares.groupby("series", sort=True):
        if series in outcomes:
            continue  # the outcome itself is matched on its own pre-period values
        latest = rows.sort_values("time_period").drop_duplicates("ref_area", keep="last")
        if set(latest["ref_area"]) != areas:
            continue
        values = latest.set_index("ref_area")["obs_value"]
        table = table.assign(**{f"{PREDICTOR_PREFIX}{series}": table["ref_area"].map(values)})
    return table
