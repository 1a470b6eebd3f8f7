"""The census passes, written once in SQL (DuckDB's dialect) over named relations, for any engine.

The only steps whose cost grows with the number of persons are here: the pass that reduces each
census to a cube (counts and weights per area and profile code), the roll-ups of that cube to
every area, sex and age group (GROUPING SETS), the 5-year out-movers by region of origin, and the
household members abroad. They read one view per census partition (`persons_<i>`, `areas_<i>`,
`abroad_<i>`), which each engine registers over that partition's Parquet files, so an engine reads
only the partitions asked for. DuckDB runs the text as written; other engines run it as sqlglot
transpiles it (indicators/census_engines.py). What follows works on the small results (area tree,
zeros, disclosure control, series) and is plain Python, the same whichever engine counted.
"""

from __future__ import annotations

from dataclasses import dataclass

from warehouse.census_profile import decoded as profile_parts

TOTAL = "_T"
PROFILE = profile_parts()
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
DECODED = ", ".join(f"{PROFILE[part]} AS {name}" for name, part in CUBE_COLUMNS.items())
#: Weights are summed as whole millionths of a person: integer sums are exact and do not depend
#: on the order rows are added in, so every engine (and every run) gets the same sums to the
#: last digit, and disclosure control, which weighs cells by them, makes the same choices.
WEIGHT_UNITS = 1_000_000
WEIGHT = f"CAST(round(weight * {WEIGHT_UNITS}) AS BIGINT)"


@dataclass(frozen=True)
class CensusPartition:
    """One census (country and round) and the files of its tables: persons, the province ->
    region list (None for a census loaded before it existed) and household members abroad."""

    country: str
    census_round: int
    persons: str
    areas: str | None = None
    members_abroad: str | None = None

    def views(self, index: int) -> dict[str, str]:
        """View name -> files, for the tables this partition has."""
        files = {"persons": self.persons, "areas": self.areas, "abroad": self.members_abroad}
        return {f"{table}_{index}": path for table, path in files.items() if path}


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _census(partition: CensusPartition) -> str:
    return (
        f"{_literal(partition.country)} AS country, {int(partition.census_round)} AS census_round"
    )


def _cube(partitions: list[CensusPartition]) -> str:
    """Persons by area and profile code, each census on its own (province -> region from its
    list where there is one, so the pass groups by province alone)."""
    parts = []
    for i, p in enumerate(partitions):
        if p.areas:
            parts.append(
                f"SELECT {_census(p)}, h.region, c.province, c.profile, c.n, c.w FROM ("
                f"SELECT province, profile, count(*) AS n, sum({WEIGHT}) AS w FROM persons_{i} "
                f"GROUP BY province, profile) AS c LEFT JOIN areas_{i} AS h "
                "ON h.province = c.province"
            )
        else:
            parts.append(
                f"SELECT {_census(p)}, region, province, profile, count(*) AS n, "
                f"sum({WEIGHT}) AS w FROM persons_{i} GROUP BY region, province, profile"
            )
    return " UNION ALL ".join(parts)


def _breakdowns(keys: list[str]) -> list[str]:
    """`keys` alone, by sex, by age group, and by both."""
    return [
        "(" + ", ".join(keys + extra) + ")"
        for extra in ([], ["sex"], ["age_group"], ["sex", "age_group"])
    ]


LABELS = (
    f"CASE WHEN grouping(sex) = 0 THEN sex ELSE '{TOTAL}' END AS sex, "
    f"CASE WHEN grouping(age_group) = 0 THEN age_group ELSE '{TOTAL}' END AS age"
)


def measures_sql(partitions: list[CensusPartition], sums: dict[str, str]) -> str:
    """Every measure (`sums`: column name -> whole-number aggregate over the decoded cube, its
    `n` records and `w` weights in WEIGHT_UNITS) for the nation,
    each region and each province, by sex and age group and in total. A group whose area, sex
    or age is not known comes back with a null key (counted in the totals only)."""
    census = ["country", "census_round"]
    sets = (
        _breakdowns(census)
        + _breakdowns([*census, "region"])
        + _breakdowns([*census, "region", "province"])
    )
    area = (
        "CASE WHEN grouping(province) = 0 THEN 'province' "
        "WHEN grouping(region) = 0 THEN 'region' ELSE 'country' END AS area_level, "
        "CASE WHEN grouping(province) = 0 THEN province "
        "WHEN grouping(region) = 0 THEN region ELSE country END AS ref_area, "
        "CASE WHEN grouping(province) = 0 THEN region END AS parent_region"
    )
    columns = ", ".join(f'CAST({sql} AS BIGINT) AS "{name}"' for name, sql in sums.items())
    return (
        f"SELECT country, census_round, {area}, {LABELS}, {columns} FROM ("
        f"SELECT country, census_round, region, province, "
        f"{PROFILE['inter_regional_mover_5y']} AS inmover, {DECODED}, n, w "
        f"FROM ({_cube(partitions)}) AS cube) AS decoded "
        f"GROUP BY GROUPING SETS ({', '.join(sets)})"
    )


def movers_sql(partitions: list[CensusPartition]) -> str:
    """Persons who lived five years before in another region of the country, by that region
    of origin, sex and age group."""
    parts = " UNION ALL ".join(
        f"SELECT {_census(p)}, origin_region, profile, count(*) AS n, sum({WEIGHT}) AS w "
        f"FROM persons_{i} WHERE origin_region IS NOT NULL GROUP BY origin_region, profile"
        for i, p in enumerate(partitions)
    )
    sets = _breakdowns(["country", "census_round", "origin_region"])
    return (
        "SELECT country, census_round, 'region' AS area_level, origin_region AS ref_area, "
        f"{LABELS}, "
        'CAST(sum(w) AS BIGINT) AS "outmover|_T|w", CAST(sum(n) AS BIGINT) AS "outmover|_T|n" '
        "FROM ("
        f"SELECT country, census_round, origin_region, {PROFILE['sex']} AS sex, "
        f"{PROFILE['age_group']} AS age_group, n, w FROM ({parts}) AS cube) AS decoded "
        f"GROUP BY GROUPING SETS ({', '.join(sets)})"
    )


def areas_sql(partitions: list[CensusPartition]) -> str | None:
    """Every province of the censuses with a province -> region list, with its region."""
    parts = [
        f"SELECT {_census(p)}, province, region FROM areas_{i}"
        for i, p in enumerate(partitions)
        if p.areas
    ]
    return " UNION ALL ".join(parts) or None


def emigrants_sql(partitions: list[CensusPartition]) -> str | None:
    """Former household members living abroad: in total, by destination, by destination and
    sex, by sex, and by year of departure."""
    parts = [
        f"SELECT {_census(p)}, destination, sex, departure_year FROM abroad_{i}"
        for i, p in enumerate(partitions)
        if p.members_abroad
    ]
    if not parts:
        return None
    census = "country, census_round"
    return (
        f"SELECT {census}, country AS ref_area, "
        f"CASE WHEN grouping(destination) = 0 THEN destination ELSE '{TOTAL}' END "
        "AS counterpart_area, "
        f"CASE WHEN grouping(sex) = 0 THEN coalesce(sex, 'unknown') ELSE '{TOTAL}' END AS sex, "
        "CASE WHEN grouping(departure_year) = 0 THEN 'DEPARTED_' || "
        f"coalesce(CAST(departure_year AS VARCHAR), 'UNKNOWN') ELSE '{TOTAL}' END AS breakdown, "
        f"count(*) AS n FROM ({' UNION ALL '.join(parts)}) AS members "
        f"GROUP BY GROUPING SETS (({census}), ({census}, destination), "
        f"({census}, destination, sex), ({census}, sex), ({census}, departure_year))"
    )
