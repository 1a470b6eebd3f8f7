"""Totals computed from a reported breakdown, published as values of their own.

A ministry may send a series by sex only, or by destination and sex, with no all-totals row. The
profile, the exports and the baselines need the total, so it is computed once here, marked
`computed` (the dimensions summed) and given the most cautionary flag of its parts; it is never
passed off as reported. No total is computed where one is reported, even as confidential or
missing: a suppressed total rebuilt from its published parts would undo disclosure control, and
a sum over parts of which one is hidden would be wrong."""

from __future__ import annotations

import duckdb
import pandas as pd

from indicators.census import UNIVERSE_TOTALS
from sources.i18n import N_

#: Units whose values add up across a breakdown (counts and amounts, not shares or rates).
ADDITIVE_UNITS = {"PS", "USD", "NUMBER"}
#: The breakdowns a total may be computed from, in the order tried.
SUMMED_OVER = ("sex", "age", "breakdown", "counterpart_area", "migrant_status")
#: Of the parts' flags, the one a total carries (most cautionary first).
STATUS_ORDER = ("U", "P", "E", "D", "B")
GROUP = ["indicator_id", "series", "ref_area", "time_period", "unit_measure"]
COMMENT = N_("computed: the sum of the reported values by {what}")
DIMENSION_WORDS = {
    "sex": N_("sex"),
    "age": N_("age"),
    "breakdown": N_("category"),
    "counterpart_area": N_("partner country"),
    "migrant_status": N_("migrant status"),
}


def totals_query(source: str, skip_computed: bool = True) -> str:
    """SQL giving the totals of the series in `source` (a table, view or relation of indicator
    rows) that have no all-totals row: the sum of one reported cross-classification whose
    cells all have a value, where the unit adds up. Of several (a series sent by sex in one file
    and by age in another), the one with the fewest breakdowns is summed. A total reported in
    any form (a value, confidential, missing, another source's value kept beside the preferred
    one) is never computed again. Rows carry `computed` ("sex", "counterpart_area+sex")."""
    ages = ", ".join(f"'{code}'" for code in sorted(UNIVERSE_TOTALS))
    dims = {d: d for d in SUMMED_OVER}
    dims["age"] = f"CASE WHEN age IN ({ages}) THEN '_T' ELSE age END"
    broken = {d: f"(({expr}) IS DISTINCT FROM '_T')" for d, expr in dims.items()}
    pattern = ", ".join(f"CASE WHEN {broken[d]} THEN '{d}' END" for d in SUMMED_OVER)
    width = " + ".join(f"{broken[d]}::INTEGER" for d in SUMMED_OVER)
    units = ", ".join(f"'{u}'" for u in sorted(ADDITIVE_UNITS))
    group = ", ".join(GROUP)
    same_group = " AND ".join(f"r.{c} IS NOT DISTINCT FROM k.{c}" for c in GROUP)
    status = " ".join(f"WHEN bool_or(obs_status = '{s}') THEN '{s}'" for s in STATUS_ORDER)
    unions = ", ".join(
        f"coalesce(list_sort(list_distinct(flatten(list({c}) FILTER ({c} IS NOT NULL)))), "
        f"[]::VARCHAR[]) AS {c}"
        for c in ("source_ids", "source_vintages", "batch_ids", "source_rows")
    )
    return f"""
        WITH every AS (
            SELECT *, concat_ws('+', {pattern}) AS pattern, {width} AS width
            FROM {source}
            WHERE unit_measure IN ({units}){" AND computed IS NULL" if skip_computed else ""}
        ),
        reported AS (SELECT DISTINCT {group} FROM every WHERE width = 0),
        sums AS (
            SELECT {group}, pattern, width,
                   CASE WHEN count(*) FILTER (obs_value IS NULL OR isnan(obs_value)) = 0
                        THEN sum(obs_value) END AS obs_value,
                   CASE {status} ELSE 'A' END AS obs_status,
                   coalesce(bool_or(conf_status = 'C'), false) AS hidden,
                   {unions},
                   any_value(basis) AS basis, any_value(type_of_data) AS type_of_data
            FROM every
            WHERE width > 0 AND coalesce(preferred, true)
            GROUP BY {group}, pattern, width
        ),
        kept AS (
            SELECT * FROM sums
            WHERE obs_value IS NOT NULL AND NOT hidden
            QUALIFY row_number() OVER (PARTITION BY {group} ORDER BY width, pattern) = 1
        )
        SELECT k.* EXCLUDE (width, hidden, pattern), k.pattern AS computed
        FROM kept k
        WHERE NOT EXISTS (SELECT 1 FROM reported r WHERE {same_group})
        ORDER BY {group}
    """


def computed_totals(
    con: duckdb.DuckDBPyConnection, source: str, skip_computed: bool = True
) -> pd.DataFrame:
    """The totals of `totals_query` as indicator rows: every other dimension the total,
    flagged `F` (free), preferred, with a comment naming what was summed."""
    sums = con.execute(totals_query(source, skip_computed)).df()
    words = sums["computed"].map(
        lambda p: " and ".join(DIMENSION_WORDS.get(d, d) for d in p.split("+"))
    )
    return sums.assign(
        counterpart_area="_T",
        sex="_T",
        age="_T",
        migrant_status="_T",
        breakdown="_T",
        unit_mult=0,
        conf_status="F",
        preferred=True,
        comment=[COMMENT.format(what=w) for w in words],
    )


def add_computed_totals(con: duckdb.DuckDBPyConnection) -> int:
    """Insert into marts.indicators the totals computed from reported breakdowns; returns how
    many."""
    totals = computed_totals(con, "marts.indicators")
    if totals.empty:
        return 0
    con.register("computed_totals", totals)
    try:
        con.execute("INSERT INTO marts.indicators BY NAME SELECT * FROM computed_totals")
    finally:
        con.unregister("computed_totals")
    return len(totals)
