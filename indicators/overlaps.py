"""Every overlap between sources reconciled, and every series break flagged.

Wherever two sources give the same indicator for the same area, period and breakdown, the
difference between the preferred value and the other one (absolute and relative) is computed
and kept in marts.overlaps, flagged beyond the indicator's tolerance (`overlap_tolerance` in the
catalogue, a fraction; 5 % by default). A published series keeps one source over its whole time
range: where the preferred source has no value for a period and another source does, that value
is published with the quality flag `B` (SDMX OBS_STATUS: break in series), never silently.

The hand-written checks in indicators/reconciliation.py compare what this rule cannot: sums of
parts against a total (corridors against WDI, quarters against a year), different concepts
(consulates' citizens against the foreign-born) and a denominator's territory.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import pandas as pd

from indicators.catalogue import Indicator
from sources.expectations import CheckOutcome

DEFAULT_TOLERANCE = 0.05
BREAK = "B"
#: What identifies one published series of an indicator (the period aside).
SERIES_KEY = (
    "indicator_id",
    "ref_area",
    "counterpart_area",
    "sex",
    "age",
    "migrant_status",
    "breakdown",
    "unit_measure",
)

OVERLAPS_DDL = """
CREATE TABLE IF NOT EXISTS marts.overlaps (
    indicator_id VARCHAR, ref_area VARCHAR, counterpart_area VARCHAR, time_period VARCHAR,
    sex VARCHAR, age VARCHAR, migrant_status VARCHAR, breakdown VARCHAR, unit_measure VARCHAR,
    preferred_source VARCHAR, preferred_series VARCHAR, preferred_value DOUBLE,
    other_source VARCHAR, other_series VARCHAR, other_value DOUBLE,
    difference DOUBLE, relative_difference DOUBLE, tolerance DOUBLE, flagged BOOLEAN
)
"""


def tolerance_of(indicator: Indicator) -> float:
    value = indicator.extra.get("overlap_tolerance", DEFAULT_TOLERANCE)
    return float(value)


FREQUENCY = (
    "CASE WHEN {t}.time_period LIKE '%-Q%' THEN 'Q' "
    "WHEN length({t}.time_period) = 7 THEN 'M' ELSE 'A' END"
)


def flag_series_breaks(con: duckdb.DuckDBPyConnection) -> int:
    """Preferred values whose source is not the one the series is published from (its best
    ranked source over the whole time range, at the same frequency) get the flag `B`; a
    suppressed value keeps its `C`. Needs the `source_ranks` table of the computation.
    Returns how many were flagged."""
    key = ", ".join(f"i.{c}" for c in SERIES_KEY)
    same = " AND ".join(f"m.{c} IS NOT DISTINCT FROM s.{c}" for c in SERIES_KEY)
    return con.execute(
        f"""
        UPDATE marts.indicators AS m SET obs_status = '{BREAK}'
        FROM (
            SELECT {key}, {FREQUENCY.format(t="i")} AS frequency,
                   arg_min(i.source_ids[1],
                       lpad(CAST(coalesce(r.source_rank, 99) AS VARCHAR), 3, '0')
                       || i.source_ids[1]) AS main_source
            FROM marts.indicators i LEFT JOIN source_ranks r
                 ON r.indicator_id = i.indicator_id AND r.source_id = i.source_ids[1]
            WHERE i.preferred GROUP BY ALL
        ) s
        WHERE m.preferred AND m.source_ids[1] <> s.main_source
          AND coalesce(m.conf_status, 'F') <> 'C' AND m.obs_value IS NOT NULL
          AND {FREQUENCY.format(t="m")} = s.frequency AND {same}
        """
    ).fetchall()[0][0]


def compute_overlaps(
    con: duckdb.DuckDBPyConnection, indicators: Iterable[Indicator]
) -> pd.DataFrame:
    """marts.overlaps := each value another source gives beside the preferred one."""
    con.execute(OVERLAPS_DDL).fetchall()
    tolerances = pd.DataFrame(
        [(i.id, tolerance_of(i)) for i in indicators], columns=["indicator_id", "tolerance"]
    )
    key = ", ".join([*SERIES_KEY, "time_period"])  # one value key, the series aside
    con.register("overlap_tolerances", tolerances)
    con.execute("DELETE FROM marts.overlaps").fetchall()
    con.execute(
        f"""
        INSERT INTO marts.overlaps
        WITH preferred AS (
            SELECT {key}, source_ids[1] AS source, series, obs_value
            FROM marts.indicators WHERE preferred AND obs_value IS NOT NULL
        ), others AS (
            SELECT {key}, source_ids[1] AS source, series, obs_value
            FROM marts.indicators WHERE NOT preferred AND obs_value IS NOT NULL
        )
        SELECT p.indicator_id, p.ref_area, p.counterpart_area, p.time_period, p.sex, p.age,
               p.migrant_status, p.breakdown, p.unit_measure,
               p.source, p.series, p.obs_value, o.source, o.series, o.obs_value,
               o.obs_value - p.obs_value,
               CASE WHEN p.obs_value <> 0 THEN (o.obs_value - p.obs_value) / abs(p.obs_value) END,
               coalesce(t.tolerance, {DEFAULT_TOLERANCE}),
               coalesce(abs((o.obs_value - p.obs_value) / nullif(abs(p.obs_value), 0))
                        > coalesce(t.tolerance, {DEFAULT_TOLERANCE}), o.obs_value <> 0)
        FROM preferred p JOIN others o USING ({key})
        LEFT JOIN overlap_tolerances t ON t.indicator_id = p.indicator_id
        WHERE o.source <> p.source  -- an older edition of the same source is no overlap
        ORDER BY 1, 2, 4
        """
    ).fetchall()
    con.unregister("overlap_tolerances")
    return con.execute("SELECT * FROM marts.overlaps").df()


def overlap_outcome(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """One warning check: the overlaps beyond tolerance, the largest first."""
    flagged = con.execute(
        "SELECT * FROM marts.overlaps WHERE flagged "
        "ORDER BY abs(coalesce(relative_difference, 1)) DESC LIMIT 50"
    ).df()
    total = con.execute("SELECT count(*), count(*) FILTER (flagged) FROM marts.overlaps")
    count, beyond = total.fetchall()[0]
    return CheckOutcome(
        "source_overlaps",
        "warn",
        beyond == 0,
        f"where two sources give the same value key, they agree within the indicator's "
        f"tolerance ({count} overlaps, {beyond} beyond)",
        int(beyond),
        [
            {
                "row": None,
                "column": "obs_value",
                "value": f"{r.relative_difference:+.1%}"
                if pd.notna(r.relative_difference)
                else f"{r.other_value:g} vs 0",
                "where": {
                    "indicator": r.indicator_id,
                    "area": r.ref_area,
                    "period": r.time_period,
                    "preferred": f"{r.preferred_source}: {r.preferred_value:g}",
                    "other": f"{r.other_source}: {r.other_value:g}",
                },
            }
            for r in flagged.itertuples()
        ],
    )
