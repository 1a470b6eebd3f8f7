"""Census indicators, weighted, for the nation, each region and each province, by sex and age
group, with statistical disclosure control.

One pass over the person table reduces it to a small cube (counts and weights per combination of
area, sex, age group, origin region of 5-year movers and the flags the indicators need); every
indicator is then a sum over that cube. A cell resting on fewer unweighted records than the
threshold is published empty and flagged `suppressed`.
"""

from __future__ import annotations

import duckdb
import pandas as pd

DEFAULT_THRESHOLD = 10
AGE_GROUP = "CASE WHEN age < 15 THEN 'Y_LT15' WHEN age < 65 THEN 'Y15T64' ELSE 'Y_GE65' END"
STATUS = {"_T": None, "MS_MIGRANT": True, "MS_NOMIGRANT": False}  # by country of birth

CUBE_SQL = f"""
SELECT country, census_round, region, province, sex, {AGE_GROUP} AS age_group,
       CASE WHEN residence_5y_country = country AND residence_5y_region <> region
            THEN residence_5y_region END AS origin_region,
       birth_country <> country AS fb,
       citizenship <> country AS fc,
       birth_country <> country AND arrival_year > census_round - 5 AS recent,
       birth_country = country AND residence_5y_country <> country AS returnee,
       birth_country = country AND birth_region <> region AS lifetime,
       CASE WHEN age >= 15 THEN activity END AS activity,
       age >= 25 AS adult25,
       age >= 25 AND education >= 5 AS tertiary,
       coalesce(is_head, FALSE) AS head,
       household_id IN (SELECT household_id FROM census.members_abroad) AS has_abroad,
       count(*) AS n, sum(weight) AS w
FROM census.persons
GROUP BY ALL
"""

#: series -> (numerator, denominator or None, scale, unit, by migrant status)
SERIES = {
    "CEN_FB_STOCK": ("fb", None, 1, "PS", False),
    "CEN_FB_SHARE": ("fb", "all", 100, "PT", False),
    "CEN_FC_STOCK": ("fc", None, 1, "PS", False),
    "CEN_FC_SHARE": ("fc", "all", 100, "PT", False),
    "CEN_RECENT_IMM": ("recent", None, 1, "PS", False),
    "CEN_RETURNEES": ("returnee", None, 1, "PS", False),
    "CEN_LIFETIME_INTERNAL": ("lifetime", None, 1, "PS", False),
    "CEN_INMIG_5Y": ("inmover", None, 1, "PS", False),
    "CEN_LFPR": ("active", "pop15", 100, "PT", True),
    "CEN_EMP_RATE": ("employed", "pop15", 100, "PT", True),
    "CEN_UNEMP_RATE": ("unemployed", "active", 100, "PT", True),
    "CEN_TERTIARY": ("tertiary", "adult25", 100, "PT", True),
}
LEVELS = ("country", "region", "province")


def census_cube(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The single pass over census.persons."""
    return con.execute(CUBE_SQL).df()


def _masks(cube: pd.DataFrame) -> dict[str, pd.Series]:
    truth = {
        c: cube[c].fillna(False).astype(bool)
        for c in (
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
    }
    active = cube["activity"].isin(["employed", "unemployed"])
    return {
        **truth,
        "all": pd.Series(True, index=cube.index),
        "inmover": cube["origin_region"].notna(),
        "pop15": cube["activity"].notna(),
        "active": active,
        "employed": cube["activity"].eq("employed"),
        "unemployed": cube["activity"].eq("unemployed"),
        "households": truth["head"],
        "households_abroad": truth["head"] & truth["has_abroad"],
    }


def _rollup(cube: pd.DataFrame, columns: list[str], area: str) -> pd.DataFrame:
    """Sums of `columns` by area (country, region or province, or origin region) with `_T`
    margins for sex and age group."""
    parts = []
    for by_sex in (False, True):
        for by_age in (False, True):
            keys = (
                ["country", "census_round", area]
                + (["sex"] if by_sex else [])
                + (["age_group"] if by_age else [])
            )
            part = cube.groupby(keys, dropna=True)[columns].sum().reset_index()
            part = part.rename(columns={area: "ref_area", "age_group": "age"})
            part["sex"] = part["sex"] if by_sex else "_T"
            part["age"] = part["age"] if by_age else "_T"
            parts.append(part)
    return pd.concat(parts, ignore_index=True)


def census_indicators(
    con: duckdb.DuckDBPyConnection, threshold: int = DEFAULT_THRESHOLD
) -> pd.DataFrame:
    """All census indicator cells, long, with disclosure control applied."""
    cube = census_cube(con)
    masks = _masks(cube)
    added = {"country_area": cube["country"]}
    for name, mask in masks.items():
        for status, born_abroad in STATUS.items():
            keep = mask if born_abroad is None else mask & (masks["fb"] == born_abroad)
            added[f"{name}|{status}|w"] = cube["w"].where(keep, 0.0)
            added[f"{name}|{status}|n"] = cube["n"].where(keep, 0)
    columns = [c for c in added if c != "country_area"]
    cube = pd.concat([cube, pd.DataFrame(added)], axis=1)
    totals = pd.concat(
        [
            _rollup(cube, columns, level if level != "country" else "country_area")
            for level in LEVELS
        ],
        ignore_index=True,
    )
    frames = []
    for series, (num, den, scale, unit, by_status) in SERIES.items():
        for status in STATUS if by_status else ("_T",):
            value = totals[f"{num}|{status}|w"]
            n = totals[f"{num}|{status}|n"]
            if den:
                value = value / totals[f"{den}|{status}|w"].where(lambda s: s > 0) * scale
                n = n.clip(upper=totals[f"{den}|{status}|n"])
            frames.append(
                totals[["country", "census_round", "ref_area", "sex", "age"]].assign(
                    series=series,
                    obs_value=value,
                    n_unweighted=n,
                    unit_measure=unit,
                    migrant_status=status,
                )
            )
    movers = cube[cube["origin_region"].notna()]
    out = _rollup(movers, ["w", "n"], "origin_region")
    frames.append(
        out[["country", "census_round", "ref_area", "sex", "age"]].assign(
            series="CEN_OUTMIG_5Y",
            obs_value=out["w"],
            n_unweighted=out["n"],
            unit_measure="PS",
            migrant_status="_T",
        )
    )
    net = totals.merge(out, on=["country", "census_round", "ref_area", "sex", "age"])
    net_value = net["inmover|_T|w"] - net["w"]
    net_n = net[["inmover|_T|n", "n"]].min(axis=1)
    base = net[["country", "census_round", "ref_area", "sex", "age"]]
    frames.append(
        base.assign(
            series="CEN_NETMIG_5Y",
            obs_value=net_value,
            n_unweighted=net_n,
            unit_measure="PS",
            migrant_status="_T",
        )
    )
    frames.append(
        base.assign(
            series="CEN_NETMIG_RATE",
            obs_value=net_value / net["all|_T|w"] * 1000,
            n_unweighted=net_n,
            unit_measure="PER_1000",
            migrant_status="_T",
        )
    )
    households = totals[(totals["sex"] == "_T") & (totals["age"] == "_T")]
    frames.append(
        households[["country", "census_round", "ref_area", "sex", "age"]].assign(
            series="CEN_HH_MEMBER_ABROAD",
            obs_value=households["households_abroad|_T|w"] / households["households|_T|w"] * 100,
            n_unweighted=households["households_abroad|_T|n"],
            unit_measure="PT",
            migrant_status="_T",
        )
    )
    frames.append(emigrants(con, cube))
    frame = pd.concat(frames, ignore_index=True)
    frame["counterpart_area"] = frame.get("counterpart_area", "_T")
    frame["counterpart_area"] = frame["counterpart_area"].fillna("_T")
    frame["breakdown"] = frame.get("breakdown", "_T")
    frame["breakdown"] = frame["breakdown"].fillna("_T")
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


def emigrants(con: duckdb.DuckDBPyConnection, cube: pd.DataFrame) -> pd.DataFrame:
    """Members of households living abroad, by destination, sex and year of departure, weighted
    by the mean person weight of the census (a household's weight in a full count)."""
    weights = cube.groupby(["country", "census_round"])[["w", "n"]].sum()
    mean_weight = (weights["w"] / weights["n"]).rename("mean_weight").reset_index()
    members = (
        con.execute(
            """
        SELECT country, census_round, country AS ref_area,
               CASE WHEN grouping(destination) = 0 THEN destination ELSE '_T' END
                   AS counterpart_area,
               CASE WHEN grouping(sex) = 0 THEN sex ELSE '_T' END AS sex,
               CASE WHEN grouping(departure_year) = 0
                    THEN 'DEPARTED_' || departure_year ELSE '_T' END AS breakdown,
               count(*) AS n
        FROM census.members_abroad
        GROUP BY GROUPING SETS ((country, census_round), (country, census_round, destination),
                                (country, census_round, destination, sex),
                                (country, census_round, sex),
                                (country, census_round, departure_year))
        """
        )
        .df()
        .merge(mean_weight, on=["country", "census_round"])
    )
    return members.assign(
        series="CEN_EMIGRANTS",
        obs_value=members["n"] * members["mean_weight"],
        n_unweighted=members["n"],
        unit_measure="PS",
        age="_T",
        migrant_status="_T",
    ).drop(columns=["n", "mean_weight"])
