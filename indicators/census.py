"""Census indicators, weighted, for the nation, each region and each province, by sex and age
group, with statistical disclosure control.

One pass over the person table reduces it to a small cube (counts and weights per combination of
area, sex, age group, origin region of 5-year movers and the flags the indicators need); the
counts the series rest on are summed from that cube for every area, sex and age group, protected
by disclosure control (indicators/census_disclosure.py), and each series is then a count or a
ratio of them, as indicators/census_series.yaml declares.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path

import numpy as np
import pandas as pd

from indicators.census_disclosure import (
    CELL_KEY,
    MEASURE_SUMS,
    disclosure_summary,
    protect_cells,
    suppressed_cells,
)
from indicators.census_engines import CensusEngine, as_engine
from indicators.census_queries import (
    WEIGHT_UNITS,
    CensusPartition,
    areas_sql,
    emigrants_sql,
    measures_sql,
    movers_sql,
)
from indicators.disclosure import NONE, PRIMARY, SECONDARY, SUPPRESSION_NAMES
from sources.i18n import N_
from sources.yaml_files import read_yaml

DEFAULT_THRESHOLD = 10


#: Which cube rows each measure counts, in SQL over the cube's columns.
MASKS = {
    **{
        flag: f"coalesce({flag}, FALSE)"
        for flag in (
            "fb",
            "fc",
            "recent",
            "returnee",
            "lifetime",
            "adult25",
            "tertiary",
            "head",
            "has_abroad",
        )
    },
    "all": "TRUE",
    "inmover": "inmover",
    "pop15": "activity IS NOT NULL",
    "active": "activity IN ('employed', 'unemployed')",
    "employed": "activity = 'employed'",
    "unemployed": "activity = 'unemployed'",
    "households": "coalesce(head, FALSE)",
    "households_abroad": "coalesce(head AND has_abroad, FALSE)",
}
STATUS_SQL = {
    "_T": "TRUE",
    "MS_MIGRANT": "coalesce(fb, FALSE)",
    "MS_NOMIGRANT": "NOT coalesce(fb, FALSE)",
}


SERIES_PATH = Path(__file__).parent / "census_series.yaml"
TOTAL = "_T"
SEXES = (TOTAL, "M", "F")
AGES = (TOTAL, "Y_LT15", "Y15T64", "Y_GE65")
STATUSES = (TOTAL, "MS_MIGRANT", "MS_NOMIGRANT")
#: Age groups a series with a minimum age publishes under their own code: its total age is
#: Y_GE<min>, and the working-age group of a series from 25 holds persons aged 25-64.
AGE_FROM = {15: {TOTAL: "Y_GE15"}, 25: {TOTAL: "Y_GE25", "Y15T64": "Y25T64"}}
#: The total age of a series with a minimum age, by its published code.
UNIVERSE_TOTALS = {codes[TOTAL]: TOTAL for codes in AGE_FROM.values()}


def age_as_total(ages: pd.Series) -> pd.Series:
    """Ages with a series' universe total (Y_GE15, Y_GE25) read as the total `_T`: what a
    request for "all ages" of a census rate means."""
    return ages.replace(UNIVERSE_TOTALS)


KEYS = ["country", "census_round", "ref_area", "sex", "age"]


@dataclass(frozen=True)
class CensusSeries:
    id: str
    numerator: str
    unit: str
    basis: str
    denominator: str | None = None
    minus: str | None = None
    scale: float = 1
    by_migrant_status: bool = False
    totals_only: bool = False
    min_age: int | None = None


@cache
def series_definitions() -> dict[str, CensusSeries]:
    """The census series as indicators/census_series.yaml declares them."""
    document = read_yaml(SERIES_PATH)
    return {sid: CensusSeries(id=sid, **spec) for sid, spec in document["series"].items()}


@cache
def measure_descriptions() -> dict[str, str]:
    """Who each census measure counts, in words (the universe of a series)."""
    return read_yaml(SERIES_PATH)["measures"]


def _needed_measures() -> list[tuple[str, str]]:
    """(measure, migrant status) pairs the person pass counts."""
    needed = set()
    for spec in series_definitions().values():
        statuses = STATUSES if spec.by_migrant_status else (TOTAL,)
        for measure in (spec.numerator, spec.denominator, spec.minus):
            if measure in MASKS:
                needed |= {(measure, status) for status in statuses}
    for total, parts in MEASURE_SUMS.items():
        for measure, status in list(needed):
            if measure == total:
                needed |= {(part, status) for part in parts}
    return sorted(needed)


def _area_tree(
    engine: CensusEngine, partitions: list[CensusPartition], sums: pd.DataFrame
) -> pd.DataFrame:
    """Every area of each census with its level and parent (province -> region -> country),
    from the province -> region lists where there are, else from the persons' own codes."""
    provinces = sums[(sums["area_level"] == "province") & sums["ref_area"].notna()]
    pairs = [
        provinces[["country", "census_round", "ref_area", "parent_region"]].set_axis(
            ["country", "census_round", "province", "region"], axis=1
        )
    ]
    regions = sums[(sums["area_level"] == "region") & sums["ref_area"].notna()]
    pairs.append(
        regions[["country", "census_round", "ref_area"]]
        .rename(columns={"ref_area": "region"})
        .assign(province=None)
    )
    listed = areas_sql(partitions)
    if listed:
        pairs.append(engine.frame(listed))
    pairs = pd.concat(pairs, ignore_index=True).drop_duplicates()
    census_ids = sums[["country", "census_round"]].drop_duplicates()
    nation = census_ids.assign(ref_area=census_ids["country"], area_level="country", parent=None)
    regions = pairs.dropna(subset=["region"])[["country", "census_round", "region"]]
    regions = regions.drop_duplicates().rename(columns={"region": "ref_area"})
    regions = regions.assign(area_level="region", parent=regions["country"])
    provinces = pairs.dropna(subset=["province"]).drop_duplicates(
        ["country", "census_round", "province"]
    )
    provinces = provinces.rename(columns={"province": "ref_area", "region": "parent"})
    provinces = provinces.assign(area_level="province")[list(nation.columns)]
    return pd.concat([nation, regions, provinces], ignore_index=True)


def _complete(sums: pd.DataFrame, columns: list[str], tree: pd.DataFrame) -> pd.DataFrame:
    """The engine's roll-ups on every area of `tree` and every sex and age group, totals
    included, zeros where nobody is counted: every published key gets its row. Groups of an
    unknown area, sex or age (null keys) count in the totals only."""
    keys = [*KEYS, "area_level"]
    known = sums.dropna(subset=["ref_area", "sex", "age"])
    known = known.groupby(keys, sort=False)[columns].sum().reset_index()
    grid = tree.merge(pd.DataFrame({"sex": SEXES}), how="cross").merge(
        pd.DataFrame({"age": AGES}), how="cross"
    )
    full = grid.merge(known, on=keys, how="left")
    full[columns] = full[columns].fillna(0)
    return full


def _long(wide: pd.DataFrame, pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """One row per measure cell from the wide `measure|status|w` and `|n` columns."""
    base = wide[["country", "census_round", "ref_area", "area_level", "parent", "sex", "age"]]
    frames = [
        base.assign(
            measure=measure,
            migrant_status=status,
            w=wide[f"{measure}|{status}|w"].to_numpy(dtype=float) / WEIGHT_UNITS,
            n=wide[f"{measure}|{status}|n"].to_numpy(dtype=float),
        )
        for measure, status in pairs
    ]
    return pd.concat(frames, ignore_index=True)


def measure_cells(source, partitions: list[CensusPartition] | None = None) -> pd.DataFrame:
    """Every count the census series rest on (persons or households, weighted `w`, records
    `n`), for every area, sex, age group and migrant status, zeros included; plus 5-year
    out-movers by region of origin and emigrants by destination and year of departure.

    `source` is a census engine or a DuckDB connection (the warehouse's censuses); the passes
    over the persons run on it, the rest here."""
    engine = as_engine(source)
    partitions = partitions if partitions is not None else engine.partitions()
    if not partitions:
        raise LookupError("no census loaded: census.person_partitions is empty")
    views = {v: f for i, p in enumerate(partitions) for v, f in p.views(i).items()}
    for view, files in views.items():
        engine.register(view, files)
    try:
        return _measure_cells(engine, partitions)
    finally:
        for view in views:
            engine.drop(view)


def _measure_cells(engine: CensusEngine, partitions: list[CensusPartition]) -> pd.DataFrame:
    pairs = _needed_measures()
    counted = sorted(set(pairs) | {("all", TOTAL)})  # all persons: the emigrants' mean weight
    sums = {
        f"{name}|{status}|{total}": (  # CASE: about 4 times faster than FILTER in DuckDB
            f"sum(CASE WHEN {MASKS[name]} AND {STATUS_SQL[status]} THEN {total} ELSE 0 END)"
        )
        for name, status in counted
        for total in ("w", "n")
    }
    rolled = engine.frame(measures_sql(partitions, sums))
    tree = _area_tree(engine, partitions, rolled)
    wide = _complete(rolled, list(sums), tree)
    frames = [_long(wide, pairs)]
    movers = engine.frame(movers_sql(partitions))
    regions = tree[tree["area_level"] == "region"]
    moved = _complete(movers, ["outmover|_T|w", "outmover|_T|n"], regions)
    frames.append(_long(moved, [("outmover", TOTAL)]))
    national = wide[(wide["area_level"] == "country") & (wide["sex"] == TOTAL)]
    national = national[national["age"] == TOTAL]
    mean_weight = national[["country", "census_round"]].assign(
        mean_weight=national[f"all|{TOTAL}|w"] / WEIGHT_UNITS / national[f"all|{TOTAL}|n"]
    )
    frames.append(_emigrant_cells(engine, partitions, mean_weight))
    frame = pd.concat(frames, ignore_index=True)
    for column in ("counterpart_area", "breakdown"):
        frame[column] = frame[column].fillna(TOTAL) if column in frame else TOTAL
    return frame.reset_index(drop=True)


def _emigrant_cells(
    engine: CensusEngine, partitions: list[CensusPartition], mean_weight: pd.DataFrame
) -> pd.DataFrame:
    """Members of households living abroad, by destination, sex and year of departure, weighted
    by the mean person weight of the census (a household's weight in a full count)."""
    empty = pd.DataFrame(columns=[*CELL_KEY, "area_level", "parent", "w", "n"])
    sql = emigrants_sql(partitions)
    if sql is None:
        return empty
    members = engine.frame(sql)
    members = members[members["sex"].isin(SEXES)]  # sex not stated: in the totals only
    if members.empty:
        return empty
    # every destination by both sexes, zeros included
    by_sex = members[members["breakdown"] == TOTAL]
    grid = by_sex[["country", "census_round", "ref_area", "counterpart_area"]].drop_duplicates()
    grid = grid.merge(pd.DataFrame({"sex": SEXES, "breakdown": TOTAL}), how="cross")
    members = pd.concat(
        [
            grid.merge(by_sex, how="left", on=list(grid.columns)).fillna({"n": 0}),
            members[members["breakdown"] != TOTAL],
        ],
        ignore_index=True,
    ).merge(mean_weight, on=["country", "census_round"])
    return members.assign(
        measure="emigrants",
        migrant_status=TOTAL,
        age=TOTAL,
        area_level="country",
        parent=None,
        w=members["n"] * members["mean_weight"],
    ).drop(columns=["mean_weight"])


def _series_rows(spec: CensusSeries, cells: pd.DataFrame) -> pd.DataFrame:
    """One series' cells from its measures: values, records, missing and suppressed."""
    join = [k for k in CELL_KEY if k != "measure"]
    statuses = STATUSES if spec.by_migrant_status else (TOTAL,)
    wanted = cells["migrant_status"].isin(statuses)
    if spec.totals_only:
        wanted &= (cells["sex"] == TOTAL) & (cells["age"] == TOTAL)
    take = ["w", "n", "suppression"]
    rows = cells[wanted & (cells["measure"] == spec.numerator)]
    rows = rows[[*join, "area_level", *take]]
    for role in ("minus", "denominator"):
        measure = getattr(spec, role)
        if measure:
            other = cells[cells["measure"] == measure][[*join, *take]]
            rows = rows.merge(other, on=join, how="inner", suffixes=("", f"_{role}"))
    value = rows["w"].to_numpy(dtype=float)
    suppression = rows["suppression"].to_numpy()
    if spec.minus:
        value = value - rows["w_minus"].to_numpy(dtype=float)
        # equal weighted sums subtract to rounding noise (3.6e-12): that is a zero
        value = np.where(np.abs(value) < 1e-6, 0.0, value)
        suppression = np.maximum(suppression, rows["suppression_minus"].to_numpy())
    base = rows["n"].to_numpy(dtype=float)
    weights = rows["w"].to_numpy(dtype=float)
    missing = np.zeros(len(rows), dtype=bool)
    if spec.denominator:
        divisor = rows["w_denominator"].to_numpy(dtype=float)
        missing = divisor <= 0
        with np.errstate(divide="ignore", invalid="ignore"):
            value = np.where(missing, np.nan, value / divisor * spec.scale)
        base = rows["n_denominator"].to_numpy(dtype=float)
        weights = divisor
        suppression = np.maximum(suppression, rows["suppression_denominator"].to_numpy())
    # a cell that cannot be suppressed by one measure but is by another: primary wins
    primary_any = rows["suppression"].to_numpy() == PRIMARY
    for role in ("minus", "denominator"):
        if f"suppression_{role}" in rows:
            primary_any |= rows[f"suppression_{role}"].to_numpy() == PRIMARY
    suppression = np.where(suppression > NONE, np.where(primary_any, PRIMARY, SECONDARY), NONE)
    # the groups below the series' universe (children, for a series from 15 or 25)
    impossible = ((rows["age"] == "Y_LT15") & bool(spec.min_age)).to_numpy()
    out = rows[join + ["area_level"]].assign(
        series=spec.id,
        obs_value=value,
        unit_measure=spec.unit,
        n_unweighted=rows["n"].to_numpy(dtype=float),
        base_count=base,
        weight_sum=weights,
        basis=spec.basis,
        suppression=suppression,
        missing=np.where(impossible, "age", np.where(missing, "empty", "")),
    )
    if spec.min_age:
        out["age"] = out["age"].replace(AGE_FROM[spec.min_age])
    return out


#: Why a census cell is published empty with OBS_STATUS M.
MISSING_REASONS = {
    "age": N_("cannot exist: the series counts persons aged {min_age} and over"),
    "empty": N_("cannot exist: nobody in this area and group belongs to the population divided by"),
}


def census_indicators(
    source,
    threshold: int = DEFAULT_THRESHOLD,
    secondary: bool = True,
    partitions: list[CensusPartition] | None = None,
    carried: pd.DataFrame | None = None,
    confidential: list[pd.DataFrame] | None = None,
) -> pd.DataFrame:
    """All census indicator cells, long, every key with a row: a value (OBS_STATUS A), a
    cell that cannot exist (M, with its reason) or a confidential cell (CONF_STATUS C, primary
    or secondary suppression). `frame.attrs["disclosure"]` sums up what suppression cost.
    `secondary=False` applies primary suppression alone (to measure what it leaves open).
    `source`: a census engine, or a DuckDB connection for the warehouse's censuses;
    `partitions`: the censuses to compute (default: every one the engine has); `carried`: the
    cells earlier editions published as confidential, kept confidential (CELL_KEY rows);
    `confidential`, a list this edition's suppressed cells are added to, to carry forward."""
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        raise ValueError(f"disclosure threshold {threshold!r}: a positive whole number is needed")
    cells = measure_cells(source, partitions)
    cells = pd.concat(
        [
            protect_cells(part, threshold, secondary, carried)
            for _, part in cells.groupby(["country", "census_round"])
        ],
        ignore_index=True,
    )
    frame = pd.concat(
        [_series_rows(spec, cells) for spec in series_definitions().values()], ignore_index=True
    )
    specs = series_definitions()
    impossible = frame["missing"] == "age"
    frame["comment"] = None
    frame.loc[impossible, "comment"] = [
        MISSING_REASONS["age"].format(min_age=specs[s].min_age) for s in frame["series"][impossible]
    ]
    frame.loc[frame["missing"] == "empty", "comment"] = MISSING_REASONS["empty"]
    is_missing = frame["missing"] != ""
    frame.loc[is_missing, "suppression"] = NONE
    frame["obs_status"] = np.where(is_missing, "M", "A")
    frame["suppressed"] = frame["suppression"] > NONE
    frame["conf_status"] = np.where(frame["suppressed"], "C", "F")
    frame.loc[frame["suppressed"] | is_missing, "obs_value"] = None
    frame["suppression"] = frame["suppression"].map(SUPPRESSION_NAMES)
    frame["time_period"] = frame["census_round"].astype(str)
    for column in ("n_unweighted", "base_count"):
        # the record counts of a confidential cell would give it away: published empty too
        frame[column] = frame[column].fillna(0).astype("Int64")
        frame.loc[frame["suppressed"], column] = pd.NA
    frame.loc[frame["suppressed"], "weight_sum"] = np.nan
    frame.attrs["disclosure"] = disclosure_summary(cells)
    if confidential is not None:
        confidential.append(suppressed_cells(cells))
    return frame[
        [
            "series",
            "country",
            "census_round",
            "ref_area",
            "area_level",
            "counterpart_area",
            "time_period",
            "sex",
            "age",
            "migrant_status",
            "breakdown",
            "obs_value",
            "unit_measure",
            "n_unweighted",
            "base_count",
            "weight_sum",
            "basis",
            "obs_status",
            "conf_status",
            "suppression",
            "suppressed",
            "comment",
        ]
    ].reset_index(drop=True)
