"""Each person's migration profile, derived once at ingestion and stored as one 16-bit code.

Census indicators need about a dozen derived facts per person (foreign-born, recent immigrant,
returnee, age group, activity...). Working them out from the canonical columns on every run reads
some fifteen columns of tens of millions of rows; stored as one small integer, the indicator pass
reads three columns. The view `census.persons` decodes the code back into named columns.
"""

from __future__ import annotations

AGE_GROUPS = ("Y_LT15", "Y15T64", "Y_GE65")  # code 3: age unknown
SEXES = ("M", "F")  # codes 1 and 2; 0: sex unknown
ACTIVITIES = ("employed", "unemployed", "inactive")  # codes 1-3; 0: under 15 or not stated

#: Yes/no facts, one bit each (bit number = position), as SQL over the canonical columns.
FLAGS = {
    "foreign_born": "birth_country <> country",
    "foreign_citizen": "citizenship <> country",
    "recent_immigrant": "birth_country <> country AND arrival_year > census_round - 5",
    "returnee": "birth_country = country AND residence_5y_country <> country",
    "lifetime_internal_migrant": "birth_country = country AND birth_region <> region",
    "aged_25_plus": "age >= 25",
    "tertiary_educated": "age >= 25 AND education >= 5",  # ISCED 5-8
    "household_head": "is_head",
    "household_member_abroad": "household_id IN (SELECT household_id FROM abroad_households)",
}
SEX_SHIFT, AGE_SHIFT, ACTIVITY_SHIFT, MOVER_BIT = 9, 11, 13, 15

#: The region a 5-year inter-regional mover lived in five years ago (null for everyone else);
#: stored beside the code, whose top bit says whether it is set.
ORIGIN_REGION = (
    "CASE WHEN residence_5y_country = country AND residence_5y_region <> region "
    "THEN residence_5y_region END"
)


def _coded(values: tuple[str, ...], column: str) -> str:
    branches = " ".join(f"WHEN '{v}' THEN {k}" for k, v in enumerate(values, start=1))
    return f"CASE {column} {branches} ELSE 0 END"


def profile_sql() -> str:
    """The profile code of a row of canonical columns (`abroad_households` must be a relation
    of the household ids in the module on members abroad)."""
    terms = [
        f"CASE WHEN coalesce({sql}, FALSE) THEN {1 << bit} ELSE 0 END"
        for bit, sql in enumerate(FLAGS.values())
    ]
    age = "CASE WHEN age IS NULL THEN 3 WHEN age < 15 THEN 0 WHEN age < 65 THEN 1 ELSE 2 END"
    activity = f"CASE WHEN age >= 15 THEN {_coded(ACTIVITIES, 'activity')} ELSE 0 END"
    terms += [
        f"CASE WHEN ({ORIGIN_REGION}) IS NOT NULL THEN {1 << MOVER_BIT} ELSE 0 END",
        f"{_coded(SEXES, 'sex')} * {1 << SEX_SHIFT}",
        f"({age}) * {1 << AGE_SHIFT}",
        f"({activity}) * {1 << ACTIVITY_SHIFT}",
    ]
    return "CAST(" + " + ".join(terms) + " AS USMALLINT)"


def _decoded(values: tuple[str, ...], shift: int, column: str, offset: int = 1) -> str:
    branches = " ".join(f"WHEN {k} THEN '{v}'" for k, v in enumerate(values, start=offset))
    return f"CASE ({column} >> {shift}) & 3 {branches} END"


def decoded(column: str = "profile") -> dict[str, str]:
    """SQL for each named part of the profile code: one boolean per flag, then sex, age_group
    and activity_15."""
    parts = {name: f"({column} & {1 << bit}) <> 0" for bit, name in enumerate(FLAGS)}
    parts["sex"] = _decoded(SEXES, SEX_SHIFT, column)
    parts["age_group"] = _decoded(AGE_GROUPS, AGE_SHIFT, column, offset=0)
    parts["activity_15"] = _decoded(ACTIVITIES, ACTIVITY_SHIFT, column)
    parts["inter_regional_mover_5y"] = f"({column} & {1 << MOVER_BIT}) <> 0"
    return parts
