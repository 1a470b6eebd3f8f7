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

import duckdb
import numpy as np
import pandas as pd

from indicators.census_disclosure import (
    CELL_KEY,
    MEASURE_SUMS,
    disclosure_summary,
    protect_cells,
)
from indicators.disclosure import NONE, PRIMARY, SECONDARY, SUPPRESSION_NAMES
from sources.i18n import N_
from sources.yaml_files import read_yaml
from warehouse.census_profile import decoded as profile_parts

DEFAULT_THRESHOLD = 10

#: The cube's columns from the profile code stored at ingestion (warehouse.census_profile).
CUBE_COLUMNS = {
    "sex": "sex",
    "age_group": "age_group",
    "fb": "foreign_born",
    "fc": "foreign_citizen",
    "recent": "recent_immigrant",
    "returnee": "returnee",
    "lifetime": "lifetime_internal_migrant",
    "activity": "activity_15",
    "adult25": "aged_25_plus",
    "tertiary": "tertiary_educated",
    "head": "household_head",
    "has_abroad": "household_member_abroad",
}
PROFILE = profile_parts()
DECODED = ", ".join(f"{PROFILE[part]} AS {name}" for name, part in CUBE_COLUMNS.items())
#: The single pass, one census partition at a time: persons by area and profile code. 5-year
#: movers by region of origin come from a second, much smaller pass (a few percent of rows).
CUBE_PART = """
    SELECT '{country}' AS country, {census_round} AS census_round, h.region, c.province,
           c.profile, c.n, c.w
    FROM (
        SELECT province, profile, count(*) AS n, sum(weight) AS w
        FROM read_parquet('{files}')
        GROUP BY province, profile
    ) c
    LEFT JOIN read_parquet('{areas}') h ON h.province = c.province
"""
#: Without a province -> region file (a census loaded before it existed): group by both.
CUBE_PART_WITH_REGION = """
    SELECT '{country}' AS country, {census_round} AS census_round, region, province, profile,
           count(*) AS n, sum(weight) AS w
    FROM read_parquet('{files}')
    GROUP BY region, province, profile
"""
MOVERS_PART = """
    SELECT '{country}' AS country, {census_round} AS census_round, origin_region, profile,
           count(*) AS n, sum(weight) AS w
    FROM read_parquet('{files}')
    WHERE origin_region IS NOT NULL
    GROUP BY origin_region, profile
"""


def _per_partition(con: duckdb.DuckDBPyConnection, part: str) -> str:
    partitions = con.execute(
        "SELECT country, census_round, files, areas FROM census.person_partitions ORDER BY ALL"
    ).fetchall()
    if not partitions:
        raise LookupError("no census loaded: census.person_partitions is empty")
    return " UNION ALL ".join(
        (CUBE_PART_WITH_REGION if part == CUBE_PART and areas is None else part).format(
            country=c,
            census_round=r,
            files=f.replace("'", "''"),
            areas=(areas or "").replace("'", "''"),
        )
        for c, r, f, areas in partitions
    )


def census_cube(con: duckdb.DuckDBPyConnection) -> None:
    """The pass over census.persons, kept in DuckDB as temp tables `census_cube` and
    `census_movers`."""
    cells = _per_partition(con, CUBE_PART)
    movers = _per_partition(con, MOVERS_PART)
    con.execute(
        "CREATE OR REPLACE TEMP TABLE census_cube AS "
        f"SELECT country, census_round, region, province, "
        f"{PROFILE['inter_regional_mover_5y']} AS inmover, {DECODED}, n, w FROM ({cells})"
    ).fetchall()
    con.execute(
        "CREATE OR REPLACE TEMP TABLE census_movers AS "
        f"SELECT country, census_round, origin_region, {DECODED}, n, w FROM ({movers})"
    ).fetchall()


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


def _area_tree(con: duckdb.DuckDBPyConnection, cells: pd.DataFrame) -> pd.DataFrame:
    """Every area of each census with its level and parent (province -> region -> country),
    from the province -> region file where there is one, else from the persons' own codes."""
    pairs = [cells[["country", "census_round", "region", "province"]].drop_duplicates()]
    for country, census_round, areas in con.execute(
        "SELECT country, census_round, areas FROM census.person_partitions WHERE areas IS NOT NULL"
    ).fetchall():
        listed = con.execute(f"SELECT province, region FROM read_parquet('{_quoted(areas)}')").df()
        pairs.append(listed.assign(country=country, census_round=census_round))
    pairs = pd.concat(pairs, ignore_index=True).drop_duplicates()
    census_ids = pairs[["country", "census_round"]].drop_duplicates()
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


def _quoted(path: str) -> str:
    return path.replace("'", "''")


def _by_area(cells: pd.DataFrame, columns: list[str], tree: pd.DataFrame) -> pd.DataFrame:
    """Sums of `columns` for every area of `tree` and every sex and age group, totals
    included, zeros where nobody is counted: every published key gets its row."""
    parts = []
    for level, column in (("country", "country"), ("region", "region"), ("province", "province")):
        if level != "country" and column not in cells:
            continue
        for by_sex in (False, True):
            for by_age in (False, True):
                keys = ["country", "census_round"] + ([column] if level != "country" else [])
                keys += (["sex"] if by_sex else []) + (["age_group"] if by_age else [])
                part = cells.groupby(keys, dropna=True, sort=False)[columns].sum().reset_index()
                part = part.rename(columns={"age_group": "age"})
                part["ref_area"] = part["country" if level == "country" else column]
                part["sex"] = part["sex"] if by_sex else TOTAL
                part["age"] = part["age"] if by_age else TOTAL
                parts.append(part[[*KEYS, *columns]])
    sums = pd.concat(parts, ignore_index=True)
    grid = tree.merge(pd.DataFrame({"sex": SEXES}), how="cross").merge(
        pd.DataFrame({"age": AGES}), how="cross"
    )
    full = grid.merge(sums, on=KEYS, how="left")
    full[columns] = full[columns].fillna(0)
    return full


def _long(wide: pd.DataFrame, pairs: list[tuple[str, str]]) -> pd.DataFrame:
    """One row per measure cell from the wide `measure|status|w` and `|n` columns."""
    base = wide[["country", "census_round", "ref_area", "area_level", "parent", "sex", "age"]]
    frames = [
        base.assign(
            measure=measure,
            migrant_status=status,
            w=wide[f"{measure}|{status}|w"].to_numpy(dtype=float),
            n=wide[f"{measure}|{status}|n"].to_numpy(dtype=float),
        )
        for measure, status in pairs
    ]
    return pd.concat(frames, ignore_index=True)


def measure_cells(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Every count the census series rest on (persons or households, weighted `w`, records
    `n`), for every area, sex, age group and migrant status, zeros included; plus 5-year
    out-movers by region of origin and emigrants by destination and year of departure."""
    census_cube(con)
    pairs = _needed_measures()
    sums = {
        f"{name}|{status}|{total}": (  # CASE: about 4 times faster than FILTER here
            f"sum(CASE WHEN {MASKS[name]} AND {STATUS_SQL[status]} THEN {total} ELSE 0 END)"
        )
        for name, status in pairs
        for total in ("w", "n")
    }
    cells = con.execute(
        "SELECT country, census_round, region, province, sex, age_group, "
        + ", ".join(f'{sql} AS "{name}"' for name, sql in sums.items())
        + " FROM census_cube GROUP BY ALL"
    ).df()
    tree = _area_tree(con, cells)
    frames = [_long(_by_area(cells, list(sums), tree), pairs)]
    movers = con.execute(
        "SELECT country, census_round, origin_region AS region, sex, age_group, "
        'sum(w) AS "outmover|_T|w", sum(n) AS "outmover|_T|n" FROM census_movers GROUP BY ALL'
    ).df()
    regions = tree[tree["area_level"] == "region"]
    moved = _by_area(movers.drop(columns=[]), ["outmover|_T|w", "outmover|_T|n"], regions)
    frames.append(_long(moved, [("outmover", TOTAL)]))
    frames.append(_emigrant_cells(con))
    for table in ("census_cube", "census_movers"):
        con.execute(f"DROP TABLE IF EXISTS {table}").fetchall()
    frame = pd.concat(frames, ignore_index=True)
    for column in ("counterpart_area", "breakdown"):
        frame[column] = frame[column].fillna(TOTAL) if column in frame else TOTAL
    return frame.reset_index(drop=True)


def _emigrant_cells(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Members of households living abroad, by destination, sex and year of departure, weighted
    by the mean person weight of the census (a household's weight in a full count)."""
    mean_weight = con.execute(
        "SELECT country, census_round, sum(w) / sum(n) AS mean_weight FROM census_cube GROUP BY ALL"
    ).df()
    members = con.execute(
        """
        SELECT country, census_round, country AS ref_area,
               CASE WHEN grouping(destination) = 0 THEN destination ELSE '_T' END
                   AS counterpart_area,
               CASE WHEN grouping(sex) = 0 THEN coalesce(sex, 'unknown') ELSE '_T' END AS sex,
               CASE WHEN grouping(departure_year) = 0
                    THEN 'DEPARTED_' || coalesce(departure_year::VARCHAR, 'UNKNOWN')
                    ELSE '_T' END AS breakdown,
               count(*) AS n
        FROM census.members_abroad
        GROUP BY GROUPING SETS ((country, census_round), (country, census_round, destination),
                                (country, census_round, destination, sex),
                                (country, census_round, sex),
                                (country, census_round, departure_year))
        """
    ).df()
    members = members[members["sex"].isin(SEXES)]  # sex not stated: in the totals only
    if members.empty:
        return pd.DataFrame(columns=[*CELL_KEY, "area_level", "parent", "w", "n"])
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
    con: duckdb.DuckDBPyConnection, threshold: int = DEFAULT_THRESHOLD, secondary: bool = True
) -> pd.DataFrame:
    """All census indicator cells, long, every key with a row: a value (OBS_STATUS A), a
    cell that cannot exist (M, with its reason) or a confidential cell (CONF_STATUS C, primary
    or secondary suppression). `frame.attrs["disclosure"]` sums up what suppression cost.
    `secondary=False` applies primary suppression alone (to measure what it leaves open)."""
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        raise ValueError(f"disclosure threshold {threshold!r}: a positive whole number is needed")
    cells = measure_cells(con)
    cells = pd.concat(
        [
            protect_cells(part, threshold, secondary)
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
