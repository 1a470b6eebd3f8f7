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
        "every reference area in core.observations is a country (aggregates are kept apart)",
        "SELECT DISTINCT source_id, ref_area FROM core.observations WHERE ref_area NOT IN "
        "(SELECT code FROM core.areas WHERE kind = 'country')",
    ),
}


def core_outcomes(con: duckdb.DuckDBPyConnection) -> list[CheckOutcome]:
    outcomes = []
    for name, (description, sql) in RULES.items():
        count = con.execute(f"SELECT count(*) FROM ({sql})").fetchone()[0]
        examples = con.execute(f"SELECT * FROM ({sql}) LIMIT 10").df().to_dict(orient="records")
        outcomes.append(
            CheckOutcome(
                name,
                "error",
                count == 0,
                description,
                count,
                [
                    {
                        "row": e.get("source_row"),
                        "column": "obs_value",
                        "value": None,
                        "where": json.loads(json.dumps(e, default=str)),
                    }
                    for e in examples
                ],
            )
        )
    return outcomes
