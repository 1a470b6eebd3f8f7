"""Reconciliation between sources, with stated tolerances; the figures travel with the result.

The general rule (two sources, one value key) is indicators/overlaps.py, run for every
indicator. The checks here compare what that rule cannot: a sum of parts against a total
(corridors against WDI, quarters against a year), two concepts (citizens registered at
consulates against the foreign-born), a series against itself (year-on-year jumps) and the
territory of a denominator."""

from __future__ import annotations

import duckdb

from indicators.overlaps import overlap_outcome
from sources.expectations import CheckOutcome

#: Tolerances, stated once.
BILATERAL_VS_WDI = 0.02
MINISTRY_VS_WDI = 0.01
YEAR_ON_YEAR_BOUND = 0.5
TERRITORY_GAP = 0.03
#: percentage points between the mean of a country's corridor costs in a year and WDI's
#: average for it (the World Bank weights its average; the corridors' plain mean differs)
CORRIDOR_COST_VS_WDI = 1.0


def _records(con: duckdb.DuckDBPyConnection, sql: str, params: list | None = None) -> list[dict]:
    return con.execute(sql, params or []).df().to_dict(orient="records")


def _outcome(
    name: str, description: str, rows: list[dict], failing: list[dict], severity: str = "warn"
) -> CheckOutcome:
    """The failing rows when there are any, else the figures compared, so they are always seen."""
    shown = failing or rows
    return CheckOutcome(
        name,
        severity,
        not failing,
        description,
        len(failing),
        [
            {"row": None, "column": "obs_value", "value": r.get("value"), "where": r}
            for r in shown[:50]
        ],
    )


def bilateral_remittances_vs_wdi(
    con: duckdb.DuckDBPyConnection, countries: list[str]
) -> CheckOutcome:
    """World Bank bilateral remittances into each country, summed over senders, against the WDI
    total for the same year."""
    rows = _records(
        con,
        """
        WITH corridors AS (
            SELECT ref_area, time_period, sum(obs_value) AS corridors FROM marts.indicators
            WHERE series = 'REM_CORRIDOR_USD' AND counterpart_area NOT IN ('_T') GROUP BY ALL
        )
        SELECT c.ref_area, c.time_period, c.corridors, w.obs_value AS wdi,
               c.corridors / w.obs_value - 1 AS gap
        FROM corridors c JOIN marts.indicators w USING (ref_area, time_period)
        WHERE w.series = 'REM_IN_USD' AND list_contains(?, c.ref_area) ORDER BY 1
        """,
        [countries],
    )
    failing = [dict(r, value=f"{r['gap']:+.1%}") for r in rows if abs(r["gap"]) > BILATERAL_VS_WDI]
    return _outcome(
        "bilateral_remittances_vs_wdi",
        f"bilateral remittance estimates add up to the WDI total within {BILATERAL_VS_WDI:.0%} "
        f"({', '.join(countries)})",
        [dict(r, value=f"{r['gap']:+.2%}") for r in rows],
        failing,
    )


def ministry_remittances_vs_wdi(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """Quarterly remittances from national sources, summed by year, against WDI."""
    rows = _records(
        con,
        """
        WITH quarters AS (
            SELECT ref_area, series, left(time_period, 4) AS year, sum(obs_value) AS national,
                   count(*) AS quarters
            FROM marts.indicators
            WHERE indicator_id = 'REM_IN_USD' AND time_period LIKE '%-Q%' GROUP BY ALL
        )
        SELECT q.ref_area, q.series, q.year, q.quarters, q.national, w.obs_value AS wdi,
               q.national / w.obs_value - 1 AS gap
        FROM quarters q JOIN marts.indicators w
             ON w.ref_area = q.ref_area AND w.time_period = q.year AND w.series = 'REM_IN_USD'
        ORDER BY 1, 3
        """,
    )
    failing = [
        dict(r, value=f"{r['gap']:+.2%}")
        for r in rows
        if r["quarters"] == 4 and abs(r["gap"]) > MINISTRY_VS_WDI
    ]
    return _outcome(
        "ministry_remittances_vs_wdi",
        f"national quarterly remittances add up to the WDI annual total within "
        f"{MINISTRY_VS_WDI:.0%}",
        [dict(r, value=f"{r['gap']:+.2%}") for r in rows],
        failing,
    )


def consular_vs_emigrant_stock(con: duckdb.DuckDBPyConnection) -> CheckOutcome:
    """Nationals registered at consulates against the World Bank emigrant stock, by
    destination: a ratio to read, not a test (citizens are not the foreign-born)."""
    rows = _records(
        con,
        """
        SELECT c.ref_area, c.counterpart_area, c.time_period, sum(c.obs_value) AS registered,
               any_value(w.obs_value) AS wb_stock,
               sum(c.obs_value) / any_value(w.obs_value) AS ratio
        FROM marts.indicators c JOIN marts.indicators w
             ON w.series = 'EMI_STOCK' AND w.ref_area = c.ref_area
             AND w.counterpart_area = c.counterpart_area AND w.sex = '_T'
        WHERE c.series = 'MAR_CONSULAR_REGISTERED' AND c.sex IN ('M', 'F')
              AND c.counterpart_area <> '_T'
        GROUP BY ALL ORDER BY registered DESC
        """,
    )
    return _outcome(
        "consular_vs_emigrant_stock",
        "consular registrations as a share of the World Bank emigrant stock (reported, not failed)",
        [dict(r, value=f"{r['ratio']:.2f}") for r in rows],
        [],
    )


def year_on_year_jumps(con: duckdb.DuckDBPyConnection, countries: list[str]) -> CheckOutcome:
    """Annual series that jump by more than the bound from one year to the next."""
    rows = _records(
        con,
        f"""
        SELECT * FROM (
            SELECT series, ref_area, time_period, obs_value,
                   lag(obs_value) OVER (PARTITION BY series, ref_area
                                        ORDER BY time_period) AS previous,
                   lag(time_period) OVER (PARTITION BY series, ref_area
                                          ORDER BY time_period) AS previous_period
            FROM marts.indicators
            WHERE series IN ('REM_IN_USD', 'REM_OUT_USD') AND counterpart_area = '_T'
                  AND length(time_period) = 4 AND list_contains(?, ref_area)
        )
        WHERE previous > 0 AND CAST(time_period AS INT) = CAST(previous_period AS INT) + 1
              AND abs(obs_value / previous - 1) > {YEAR_ON_YEAR_BOUND}
              AND previous > 1e8
        ORDER BY ref_area, time_period
        """,
        [countries],
    )
    failing = [dict(r, value=f"{r['obs_value'] / r['previous'] - 1:+.0%}") for r in rows]
    return _outcome(
        "year_on_year_jumps",
        f"remittances do not change by more than {YEAR_ON_YEAR_BOUND:.0%} from one year to the "
        f"next (amounts above USD 100 million; {', '.join(countries)})",
        [],
        failing,
    )


def population_territory(con: duckdb.DuckDBPyConnection, countries: list[str]) -> CheckOutcome:
    """Numerator and denominator from different sources must cover the same territory: UN DESA
    population (the immigrant stock's) against WDI population (used for rates)."""
    rows = _records(
        con,
        """
        SELECT u.ref_area, u.time_period, u.obs_value * 1000 AS un_desa, w.obs_value AS wdi,
               w.obs_value / (u.obs_value * 1000) - 1 AS gap
        FROM core.observations u JOIN core.observations w USING (ref_area, time_period)
        WHERE u.series = 'IMS_POP' AND u.sex = '_T' AND w.series = 'SP_POP_TOTL'
              AND list_contains(?, u.ref_area)
        ORDER BY 1, 2
        """,
        [countries],
    )
    failing = [dict(r, value=f"{r['gap']:+.1%}") for r in rows if abs(r["gap"]) > TERRITORY_GAP]
    return _outcome(
        "population_territory",
        f"UN DESA and WDI populations agree within {TERRITORY_GAP:.0%} (else a ratio mixing them "
        "divides by another territory: Moldova with or without Transnistria)",
        [dict(r, value=f"{r['gap']:+.1%}") for r in rows],
        failing,
    )


def corridor_costs_vs_wdi(con: duckdb.DuckDBPyConnection, countries: list[str]) -> CheckOutcome:
    """The plain mean of the Remittance Prices Worldwide corridors into a country over a year
    (every corridor and quarter published) against WDI's average cost for that year."""
    rows = _records(
        con,
        """
        WITH corridors AS (
            SELECT ref_area, left(time_period, 4) AS time_period, avg(obs_value) AS corridors,
                   count(*) AS corridor_quarters
            FROM marts.indicators WHERE series = 'SI_RMT_COST_CORRIDOR' GROUP BY ALL
        )
        SELECT c.ref_area, c.time_period, c.corridors, c.corridor_quarters, w.obs_value AS wdi,
               c.corridors - w.obs_value AS gap
        FROM corridors c JOIN marts.indicators w USING (ref_area, time_period)
        WHERE w.series = 'SI_RMT_COST' AND w.counterpart_area = '_T'
          AND list_contains(?, c.ref_area)
        ORDER BY 1, 2
        """,
        [countries],
    )
    failing = [r for r in rows if abs(r["gap"]) > CORRIDOR_COST_VS_WDI]
    return _outcome(
        "corridor_costs_vs_wdi",
        f"the mean cost over a country's corridors in a year is within "
        f"{CORRIDOR_COST_VS_WDI} percentage point of WDI's average cost to that country",
        rows,
        failing,
    )


def reconciliations(con: duckdb.DuckDBPyConnection, countries: list[str]) -> list[CheckOutcome]:
    return [
        bilateral_remittances_vs_wdi(con, countries),
        corridor_costs_vs_wdi(con, countries),
        ministry_remittances_vs_wdi(con),
        consular_vs_emigrant_stock(con),
        year_on_year_jumps(con, countries),
        population_territory(con, countries),
        overlap_outcome(con),
    ]


RECONCILIATIONS = (
    "source_overlaps",
    "bilateral_remittances_vs_wdi",
    "corridor_costs_vs_wdi",
    "ministry_remittances_vs_wdi",
    "consular_vs_emigrant_stock",
    "year_on_year_jumps",
    "population_territory",
)
