"""Computing every catalogue indicator for every country and year in the core layer."""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from indicators.catalogue import Indicator, catalogue
from indicators.methods import METHODS
from warehouse.db import transaction
from warehouse.schema import INDICATOR_COLUMNS


def indicator_sql(indicator: Indicator) -> str:
    return METHODS[indicator.method].replace("{id}", indicator.id)


def compute_indicators(
    con: duckdb.DuckDBPyConnection, indicators: Iterable[Indicator] | None = None
) -> dict[str, int]:
    """Rebuild marts.indicators in one transaction; returns rows per indicator id."""
    indicators = tuple(indicators or catalogue())
    columns = ", ".join(c for c in INDICATOR_COLUMNS if c != "source_vintages")
    counts: dict[str, int] = {}
    with transaction(con):
        con.execute(
            "CREATE OR REPLACE TEMP TABLE staged_indicators AS "
            "SELECT * EXCLUDE (source_vintages) FROM marts.indicators LIMIT 0"
        )
        for indicator in indicators:
            con.execute(
                f"INSERT INTO staged_indicators BY NAME SELECT {columns} "
                f"FROM ({indicator_sql(indicator)})"
            )
        con.execute("DELETE FROM marts.indicators")
        con.execute(
            """
            INSERT INTO marts.indicators BY NAME
            WITH vintages AS (
                SELECT list(batch_id) AS ids, list(source_id || ': ' || coalesce(vintage, '?')
                       || ' (sha256 ' || left(sha256, 12) || ')') AS labels
                FROM meta.batches
            )
            SELECT s.*,
                   list_sort(list_transform(s.batch_ids,
                       lambda b: v.labels[list_position(v.ids, b)])) AS source_vintages
            FROM staged_indicators s, vintages v
            """
        )
        con.execute("DROP TABLE staged_indicators")
        for indicator_id, rows in con.execute(
            "SELECT indicator_id, count(*) FROM marts.indicators GROUP BY 1"
        ).fetchall():
            counts[indicator_id] = rows
    return {i.id: counts.get(i.id, 0) for i in indicators}
