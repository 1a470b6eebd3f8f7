"""Checks on the indicator outputs, and the data gaps of a profile (EMP Part D)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import duckdb

from indicators.catalogue import catalogue
from warehouse.schema import INDICATOR_KEY

#: Indicators whose values are shares of a whole and must lie within 0-100.
SHARE_INDICATORS = ("IMM_STOCK_PCT", "IMM_FEMALE_PCT", "EMI_RATE", "ASY_RECOGNITION", "SDG_10_c_1")


@dataclass(frozen=True)
class CheckResult:
    name: str
    passed: bool
    description: str
    failures: int = 0
    examples: list[dict] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def _examples(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> list[dict]:
    frame = con.execute(f"SELECT * FROM ({sql}) LIMIT 5", params).df()
    return frame.astype(str).to_dict(orient="records")


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: list) -> int:
    return con.execute(f"SELECT count(*) FROM ({sql})", params).fetchone()[0]


def _where_area(ref_area: str | None) -> tuple[str, list]:
    return ("WHERE ref_area = ?", [ref_area]) if ref_area else ("", [])


def unique_keys(con: duckdb.DuckDBPyConnection, ref_area: str | None = None) -> CheckResult:
    where, params = _where_area(ref_area)
    key = ", ".join(INDICATOR_KEY)
    sql = f"SELECT {key}, count(*) AS n FROM marts.indicators {where} GROUP BY ALL HAVING n > 1"
    failures = _count(con, sql, params)
    return CheckResult(
        "unique_keys",
        failures == 0,
        "one value per indicator, series, area, counterpart, period and breakdown",
        failures,
        _examples(con, sql, params) if failures else [],
    )


def shares_within_bounds(
    con: duckdb.DuckDBPyConnection, ref_area: str | None = None
) -> CheckResult:
    where, params = _where_area(ref_area)
    ids = ", ".join(f"'{i}'" for i in SHARE_INDICATORS)
    sql = (
        f"SELECT indicator_id, ref_area, counterpart_area, time_period, sex, obs_value "
        f"FROM marts.indicators {where} {'AND' if where else 'WHERE'} indicator_id IN ({ids}) "
        f"AND (obs_value < 0 OR obs_value > 100)"
    )
    failures = _count(con, sql, params)
    return CheckResult(
        "shares_within_0_100",
        failures == 0,
        f"shares and rates ({', '.join(SHARE_INDICATORS)}) lie within 0-100",
        failures,
        _examples(con, sql, params) if failures else [],
    )


def known_areas(con: duckdb.DuckDBPyConnection, ref_area: str | None = None) -> CheckResult:
    where, params = _where_area(ref_area)
    sql = (
        f"SELECT DISTINCT ref_area FROM marts.indicators {where} "
        f"{'AND' if where else 'WHERE'} ref_area NOT IN "
        "(SELECT code FROM core.areas WHERE kind = 'country')"
    )
    failures = _count(con, sql, params)
    return CheckResult(
        "countries_only",
        failures == 0,
        "every reference area is a country code (ISO 3166-1 or declared), never an aggregate",
        failures,
        _examples(con, sql, params) if failures else [],
    )


def data_gaps(con: duckdb.DuckDBPyConnection, ref_area: str) -> list[dict]:
    """Catalogue indicators with no value for the country, and why (EMP Part D)."""
    present = {
        row[0]
        for row in con.execute(
            "SELECT DISTINCT indicator_id FROM marts.indicators WHERE ref_area = ?", [ref_area]
        ).fetchall()
    }
    gaps = []
    for indicator in catalogue():
        if indicator.id in present:
            continue
        gaps.append(
            {
                "indicator_id": indicator.id,
                "reason": f"no value for {ref_area} in {', '.join(indicator.sources)}",
            }
        )
    return gaps


def run_checks(con: duckdb.DuckDBPyConnection, ref_area: str | None = None) -> list[CheckResult]:
    return [
        unique_keys(con, ref_area),
        shares_within_bounds(con, ref_area),
        known_areas(con, ref_area),
    ]
