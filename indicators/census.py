"""Census indicators, weighted, for the nation, each region and each province, by sex and age
group, in one pass over the person table (plus small passes for movers and households), with
statistical disclosure control: a cell resting on fewer unweighted records than the threshold
is published empty and flagged."""

from __future__ import annotations

import duckdb
import pandas as pd

DEFAULT_THRESHOLD = 10

#: series -> (numerator column, denominator column or None, scale, unit, migrant status)
SERIES = {
    "CEN_FB_STOCK": ("fb", None, 1, "PS", "_T"),
    "CEN_FB_SHARE": ("fb", "pop", 100, "PT", "_T"),
    "CEN_FC_STOCK": ("fc", None, 1, "PS", "_T"),
    "CEN_FC_SHARE": ("fc", "pop", 100, "PT", "_T"),
    "CEN_RECENT_IMM": ("recent", None, 1, "PS", "_T"),
    "CEN_RETURNEES": ("returnee", None, 1, "PS", "_T"),
    "CEN_LIFETIME_INTERNAL": ("lifetime", None, 1, "PS", "_T"),
    "CEN_INMIG_5Y": ("inmover", None, 1, "PS", "_T"),
}
BY_STATUS = {  # series -> (numerator, denominator, scale, unit), for _T, MS_MIGRANT, MS_NOMIGRANT
    "CEN_LFPR": ("active", "pop15", 100, "PT"),
    "CEN_EMP_RATE": ("employed", "pop15", 100, "PT"),
    "CEN_UNEMP_RATE": ("unemployed", "active", 100, "PT"),
    "CEN_TERTIARY": ("tertiary", "adult25", 100, "PT"),
}
STATUS = {"_T": "TRUE", "MS_MIGRANT": "fb", "MS_NOMIGRANT": "NOT fb"}
FLAGS = {
    "fb": "fb",
    "fc": "citizenship <> country",
    "pop": "TRUE",
    "recent": "fb AND arrival_year > census_round - 5",
    "returnee": "NOT fb AND residence_5y_country IS NOT NULL AND residence_5y_country <> country",
    "lifetime": "NOT fb AND birth_region IS NOT NULL AND birth_region <> region",
    "inmover": "residence_5y_country = country AND residence_5y_region IS NOT NULL "
    "AND residence_5y_region <> region",
    "pop15": "age >= 15",
    "active": "age >= 15 AND activity IN ('employed', 'unemployed')",
    "employed": "age >= 15 AND activity = 'employed'",
    "unemployed": "age >= 15 AND activity = 'unemployed'",
    "adult25": "age >= 25",
    "tertiary": "age >= 25 AND education >= 5",
}
AGE_GROUP = "CASE WHEN age < 15 THEN 'Y_LT15' WHEN age < 65 THEN 'Y15T64' ELSE 'Y_GE65' END"
GEOGRAPHY = {"country": "country", "region": "region", "province": "province"}


def _grouping_sets(area: str) -> str:
    sets = []
    for geo in GEOGRAPHY.values():
        for extra in ((), ("sex",), ("age_group",), ("sex", "age_group")):
            sets.append("(" + ", ".join(("country", "census_round", geo, *extra)) + ")")
    return ", ".join(dict.fromkeys(sets))


def person_aggregates(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The single pass: weighted and unweighted counts of every flag, per cell."""
    columns = []
    for status, condition in STATUS.items():
        for name, flag in FLAGS.items():
            if status != "_T" and name not in {
                "active",
                "pop15",
                "employed",
                "unemployed",
                "adult25",
                "tertiary",
            }:
                continue
            alias = f"{name}__{status}"
            where = f"({flag}) AND ({condition})"
            columns.append(f'sum(weight) FILTER (WHERE {where}) AS "{alias}_w"')
            columns.append(f'count(*) FILTER (WHERE {where}) AS "{alias}_n"')
    sql = f"""
    WITH p AS (
        SELECT *, birth_country <> country AS fb, {AGE_GROUP} AS age_group
        FROM census.persons
    )
    SELECT country, census_round,
           CASE WHEN grouping(province) = 0 THEN province
                WHEN grouping(region) = 0 THEN region ELSE country END AS ref_area,
           CASE WHEN grouping(sex) = 0 THEN sex ELSE '_T' END AS sex,
           CASE WHEN grouping(age_group) = 0 THEN age_group ELSE '_T' END AS age,
           {", ".join(columns)}
    FROM p
    GROUP BY GROUPING SETS ({_grouping_sets("area")})
    """
    return con.execute(sql).df()


def mover_aggregates(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Out-migrants by region of residence five years ago (a small pass over movers)."""
    return con.execute(
        f"""
        SELECT country, census_round, residence_5y_region AS ref_area,
               CASE WHEN grouping(sex) = 0 THEN sex ELSE '_T' END AS sex,
               CASE WHEN grouping(age_group) = 0 THEN age_group ELSE '_T' END AS age,
               sum(weight) AS value, count(*) AS n
        FROM (SELECT *, {AGE_GROUP} AS age_group FROM census.persons
              WHERE residence_5y_country = country AND residence_5y_region IS NOT NULL
                AND residence_5y_region <> region)
        GROUP BY GROUPING SETS ((country, census_round, residence_5y_region),
                                (country, census_round, residence_5y_region, sex),
                                (country, census_round, residence_5y_region, age_group),
                                (country, census_round, residence_5y_region, sex, age_group))
        """
    ).df()


def household_aggregates(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Households with at least one member abroad, by area, and emigrants by destination."""
    households = con.execute(
        """
        WITH h AS (
            SELECT country, census_round, household_id, any_value(region) AS region,
                   any_value(province) AS province, any_value(weight) AS weight
            FROM census.persons GROUP BY ALL
        ), abroad AS (
            SELECT DISTINCT country, census_round, household_id FROM census.members_abroad
        )
        SELECT h.country, h.census_round,
               CASE WHEN grouping(province) = 0 THEN province
                    WHEN grouping(region) = 0 THEN region ELSE h.country END AS ref_area,
               sum(weight) FILTER (WHERE a.household_id IS NOT NULL) AS with_w,
               count(*) FILTER (WHERE a.household_id IS NOT NULL) AS with_n,
               sum(weight) AS all_w, count(*) AS all_n
        FROM h LEFT JOIN abroad a USING (country, census_round, household_id)
        GROUP BY GROUPING SETS ((h.country, h.census_round), (h.country, h.census_round, region),
                                (h.country, h.census_round, region, province))
        """
    ).df()
    emigrants = con.execute(
        """
        WITH m AS (
            SELECT m.*, p.weight FROM census.members_abroad m
            JOIN (SELECT DISTINCT country, census_round, household_id, weight
                  FROM census.persons) p USING (country, census_round, household_id)
        )
        SELECT country, census_round, country AS ref_area,
               CASE WHEN grouping(destination) = 0 THEN destination ELSE '_T' END
                   AS counterpart_area,
               CASE WHEN grouping(sex) = 0 THEN sex ELSE '_T' END AS sex,
               CASE WHEN grouping(departure_year) = 0
                    THEN 'DEPARTED_' || departure_year ELSE '_T' END AS breakdown,
               sum(weight) AS value, count(*) AS n
        FROM m
        GROUP BY GROUPING SETS ((country, census_round), (country, census_round, destination),
                                (country, census_round, destination, sex),
                                (country, census_round, sex),
                                (country, census_round, departure_year))
        """
    ).df()
    return households, emigrants


def census_indicators(
    con: duckdb.DuckDBPyConnection, threshold: int = DEFAULT_THRESHOLD
) -> pd.DataFrame:
    """All census indicator cells, long, with disclosure control applied."""
    cells = person_aggregates(con)
    rows = []
    base = cells[["country", "census_round", "ref_area", "sex", "age"]]
    for series, (num, den, scale, unit, status) in SERIES.items():
        rows.append(
            _series(
                base,
                cells,
                series,
                f"{num}__{status}",
                den and f"{den}__{status}",
                scale,
                unit,
                status,
            )
        )
    for series, (num, den, scale, unit) in BY_STATUS.items():
        for status in STATUS:
            rows.append(
                _series(
                    base, cells, series, f"{num}__{status}", f"{den}__{status}", scale, unit, status
                )
            )
    movers = mover_aggregates(con)
    out = movers.rename(columns={"value": "obs_value", "n": "n_unweighted"}).assign(
        series="CEN_OUTMIG_5Y", unit_measure="PS", migrant_status="_T"
    )
    rows.append(out)
    inflow = cells[
        [
            "country",
            "census_round",
            "ref_area",
            "sex",
            "age",
            "inmover___T_w",
            "inmover___T_n",
            "pop___T_w",
            "pop___T_n",
        ]
    ]
    net = inflow.merge(movers, on=["country", "census_round", "ref_area", "sex", "age"])
    net_value = net["inmover___T_w"].fillna(0) - net["value"].fillna(0)
    n = net[["inmover___T_n", "n"]].min(axis=1)
    rows.append(
        net[["country", "census_round", "ref_area", "sex", "age"]].assign(
            series="CEN_NETMIG_5Y",
            obs_value=net_value,
            n_unweighted=n,
            unit_measure="PS",
            migrant_status="_T",
        )
    )
    rows.append(
        net[["country", "census_round", "ref_area", "sex", "age"]].assign(
            series="CEN_NETMIG_RATE",
            obs_value=net_value / net["pop___T_w"] * 1000,
            n_unweighted=n,
            unit_measure="PER_1000",
            migrant_status="_T",
        )
    )
    households, emigrants = household_aggregates(con)
    rows.append(
        households[["country", "census_round", "ref_area"]].assign(
            series="CEN_HH_MEMBER_ABROAD",
            obs_value=households["with_w"] / households["all_w"] * 100,
            n_unweighted=households["with_n"],
            unit_measure="PT",
            sex="_T",
            age="_T",
            migrant_status="_T",
        )
    )
    rows.append(
        emigrants.rename(columns={"value": "obs_value", "n": "n_unweighted"}).assign(
            series="CEN_EMIGRANTS", unit_measure="PS", age="_T", migrant_status="_T"
        )
    )
    frame = pd.concat(rows, ignore_index=True)
    for column in ("counterpart_area", "breakdown"):
        frame[column] = frame[column].fillna("_T") if column in frame else "_T"
    frame["time_period"] = frame["census_round"].astype(str)
    frame["n_unweighted"] = frame["n_unweighted"].fillna(0).astype("int64")
    frame["suppressed"] = frame["n_unweighted"] < threshold
    frame.loc[frame["suppressed"], "obs_value"] = None
    return frame[
        [
            "series",
            "country",
            "census_round",
            "ref_area",
            "counterpart_area",
            "time_period",
            "sex",
            "age",
            "migrant_status",
            "breakdown",
            "obs_value",
            "unit_measure",
            "n_unweighted",
            "suppressed",
        ]
    ]


def _series(base, cells, series, num, den, scale, unit, status) -> pd.DataFrame:
    value = cells[f"{num}_w"].fillna(0)
    n = cells[f"{num}_n"].fillna(0)
    if den:
        value = value / cells[f"{den}_w"] * scale
        n = pd.concat([n, cells[f"{den}_n"].fillna(0)], axis=1).min(axis=1)
    return base.assign(
        series=series, obs_value=value, n_unweighted=n, unit_measure=unit, migrant_status=status
    )
