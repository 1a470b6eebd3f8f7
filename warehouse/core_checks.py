"""Row-level rules on the core table, written in SQL: they run in DuckDB over any number of
rows, never through pandas (census scale)."""

from __future__ import annotations

import json

import duckdb

from sources.expectations import CheckOutcome

RULES = {
    "no_duplicate_observations": (
        "one value per source, series, area, counterpart, period and breakdown",
        """
        SELECT source_id, series, ref_area, counterpart_area, time_period, sex, age,
               migrant_status, education, breakdown, count(*) AS n
        FROM core.observations GROUP BY ALL HAVING n > 1
        """,
    ),
    "counts_not_negative": (
        "counts of persons are not negative",
        "SELECT source_id, series, ref_area, time_period, source_row, obs_value "
        "FROM core.observations WHERE unit_measure = 'PS' AND obs_value < 0",
    ),
    "countries_only": (
        "every reference area in core.observations is a country or one of its sub-national "
        "areas (ISO 3166-2 shaped codes); aggregates are kept apart",
        "SELECT DISTINCT source_id, ref_area FROM core.observations WHERE ref_area NOT IN "
        "(SELECT code FROM core.areas WHERE kind = 'country') "
        "AND NOT regexp_full_match(ref_area, '[A-Z]{2}-[A-Z0-9-]+')",
    ),
}


def sql_outcomes(
    con: duckdb.DuckDBPyConnection, rules: dict[str, tuple[str, str]]
) -> list[CheckOutcome]:
    """Each rule is a query returning the offending rows: none means the rule holds."""
    outcomes = []
    for name, (description, sql) in rules.items():
        count = con.execute(f"SELECT count(*) FROM ({sql})").fetchall()[0][0]
        examples = con.execute(f"SELECT * FROM ({sql}) LIMIT 10").df().to_dict(orient="records")
        failures = [
            {
                "row": e.get("source_row"),
                "column": "",
                "value": None,
                "where": json.loads(json.dumps(e, default=str)),
            }
            for e in examples
        ]
        outcomes.append(CheckOutcome(name, "error", count == 0, description, count, failures))
    return outcomes


def core_outcomes(con: duckdb.DuckDBPyConnection) -> list[CheckOutcome]:
    return sql_outcomes(con, RULES)
