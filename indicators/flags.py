"""Observation flags beyond what a source states (SDMX OBS_STATUS), set from the catalogue:
a latest value far below the period before is provisional or partial (`P`), a rate resting on
too few decisions or records has low reliability (`U`), a ratio whose numerator and
denominator cover different territories differs from the definition (`D`).

A value carries one OBS_STATUS; where several apply, the most telling wins, in the order of
PRECEDENCE, and the comment says why.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable
from functools import cache
from pathlib import Path

import duckdb

from indicators.catalogue import Indicator
from indicators.methods import LOWER_BOUND
from sources.i18n import N_

#: Most telling first: missing, provisional, break, low reliability, definition differs,
#: estimated, normal.
PRECEDENCE = ("M", "L", "P", "B", "U", "D", "E", "A")
RANK_SQL = (
    "coalesce(list_position(["
    + ", ".join(f"'{c}'" for c in PRECEDENCE)
    + "], {column}), "
    + str(len(PRECEDENCE))
    + ")"
)
#: What each flag tells a reader.
OBS_STATUS_LABELS = {
    "A": "",
    "E": N_("Estimated value"),
    "P": N_("Provisional or partial value"),
    "B": N_("Break in series (another source)"),
    "U": N_("Low reliability (few observations)"),
    "D": N_("Definition differs"),
    "M": N_("Missing: cannot exist"),
    "L": N_("Missing: exists but not collected"),
}
SUPPRESSION_LABELS = {
    "primary": N_("Confidential: too few census records"),
    "secondary": N_("Confidential: hidden to protect another cell"),
}


#: The comments flags leave (written by SQL printf or str.format), as message templates, so a
#: report shows them in its reader's language.
COMMENT_TEMPLATES = (
    LOWER_BOUND,
    N_("latest value, {percent} % below {period}: taken as provisional or a partial period"),
    N_("low reliability: rests on {count} {counted} (fewer than {below})"),
    N_("numerator and denominator cover different territories: {numerator}; {denominator}"),
    N_("{source} includes {territory} ({stated_in})"),
    N_("{source} excludes {territory} ({stated_in})"),
    # what a low-reliability count counts (the catalogue's `base_count_of`)
    N_("substantive decisions"),
    N_("census records"),
)


def status_label(obs_status: str | None, conf_status: str | None, suppression: str | None) -> str:
    """The reader's words for a value's flags."""
    if conf_status == "C":
        return SUPPRESSION_LABELS.get(suppression or "primary", N_("Confidential"))
    return OBS_STATUS_LABELS.get(obs_status or "A", obs_status or "")


SERIES_KEY = (
    "indicator_id",
    "series",
    "ref_area",
    "counterpart_area",
    "sex",
    "age",
    "migrant_status",
    "breakdown",
    "unit_measure",
)


def _outranks(code: str) -> str:
    """SQL: the flag `code` is more telling than the row's current one."""
    return f"{RANK_SQL.format(column=repr(code))} < {RANK_SQL.format(column='m.obs_status')}"


def flag_partial_periods(con: duckdb.DuckDBPyConnection, indicators: Iterable[Indicator]) -> int:
    """A value of the newest period the release holds that falls more than the catalogue's
    `provisional_if_drop_over` percent below the period before is flagged P: a partial year
    or a first estimate, as a reader should take it."""
    flagged = 0
    key = ", ".join(SERIES_KEY)
    same = " AND ".join(f"m.{c} IS NOT DISTINCT FROM l.{c}" for c in SERIES_KEY)
    for indicator in indicators:
        drop = indicator.extra.get("provisional_if_drop_over")
        if not drop:
            continue
        flagged += con.execute(
            f"""
            UPDATE marts.indicators AS m
            SET obs_status = 'P',
                comment = printf('latest value, %.0f %% below %s: taken as provisional or a '
                                 || 'partial period', 100 * (1 - l.obs_value / l.previous),
                                 l.previous_period)
            FROM (
                SELECT {key}, source_ids, time_period, obs_value,
                       lag(obs_value) OVER w AS previous,
                       lag(time_period) OVER w AS previous_period,
                       row_number() OVER (PARTITION BY {key}, source_ids
                                          ORDER BY time_period DESC) AS recency,
                       max(time_period) OVER (PARTITION BY series) AS newest
                FROM marts.indicators WHERE indicator_id = $id AND obs_value IS NOT NULL
                WINDOW w AS (PARTITION BY {key}, source_ids ORDER BY time_period)
            ) l
            WHERE {same} AND m.source_ids = l.source_ids AND m.time_period = l.time_period
              AND l.recency = 1 AND l.time_period = l.newest AND l.previous > 0
              AND l.obs_value < l.previous * (1 - $drop / 100) AND {_outranks("P")}
            """,
            {"id": indicator.id, "drop": float(drop)},
        ).fetchall()[0][0]
    return flagged


def flag_low_reliability(con: duckdb.DuckDBPyConnection, indicators: Iterable[Indicator]) -> int:
    """Values resting on fewer than the catalogue's `low_reliability_below` (a count of
    `base_count_of`: decisions, census records) are flagged U, with the count beside them."""
    flagged = 0
    for indicator in indicators:
        below = indicator.extra.get("low_reliability_below")
        if not below:
            continue
        counted = indicator.extra.get("base_count_of", "observations")
        flagged += con.execute(
            f"""
            UPDATE marts.indicators AS m
            SET obs_status = 'U',
                comment = printf('low reliability: rests on %d %s (fewer than %d)',
                                 base_count, $counted, $below)
            WHERE indicator_id = $id AND obs_value IS NOT NULL AND base_count IS NOT NULL
              AND base_count < $below AND {_outranks("U")}
            """,
            {"id": indicator.id, "below": int(below), "counted": str(counted)},
        ).fetchall()[0][0]
    return flagged


COVERAGE_PATH = Path(__file__).parents[1] / "sources" / "reference" / "territorial_coverage.csv"


@cache
def territorial_coverage() -> dict[tuple[str, str], dict[str, dict]]:
    """(country, territory) -> source id -> its row: which sources cover a territory whose
    status differs between publishers, each as its publisher states it."""
    found: dict[tuple[str, str], dict[str, dict]] = {}
    with COVERAGE_PATH.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            found.setdefault((row["country"], row["territory"]), {})[row["source_id"]] = row
    return found


def coverage_differences(numerator: str, denominator: str) -> dict[str, str]:
    """Country -> why a ratio of `numerator` over `denominator` covers two territories."""
    differences = {}
    for (country, territory), sources in territorial_coverage().items():
        top, bottom = sources.get(numerator), sources.get(denominator)
        if top and bottom and top["covered"] != bottom["covered"]:
            differences[country] = (
                f"numerator and denominator cover different territories: "
                f"{_says(top, territory)}; {_says(bottom, territory)}"
            )
    return differences


def _says(row: dict, territory: str) -> str:
    verb = "includes" if row["covered"] == "yes" else "excludes"
    return f"{row['source_id']} {verb} {territory} ({row['stated_in']})"


def flag_territories(con: duckdb.DuckDBPyConnection, indicators: Iterable[Indicator]) -> int:
    """Ratios whose numerator and denominator sources cover different territories of a
    country (the catalogue's `territory_check`) are flagged D, the comment saying which."""
    flagged = 0
    for indicator in indicators:
        pair = indicator.extra.get("territory_check")
        if not pair:
            continue
        for country, why in coverage_differences(*pair).items():
            flagged += con.execute(
                f"""
                UPDATE marts.indicators AS m SET obs_status = 'D', comment = $why
                WHERE indicator_id = $id AND ref_area = $country AND obs_value IS NOT NULL
                  AND {_outranks("D")}
                """,
                {"id": indicator.id, "country": country, "why": why},
            ).fetchall()[0][0]
    return flagged


def apply_flags(con: duckdb.DuckDBPyConnection, indicators: Iterable[Indicator]) -> dict[str, int]:
    """Every flag the catalogue asks for, on marts.indicators; counts by flag."""
    indicators = tuple(indicators)
    con.execute("UPDATE marts.indicators SET conf_status = 'F' WHERE conf_status IS NULL")
    con.execute(
        "UPDATE marts.indicators SET obs_status = 'A' "
        "WHERE obs_status IS NULL AND obs_value IS NOT NULL"
    )
    return {
        "P": flag_partial_periods(con, indicators),
        "U": flag_low_reliability(con, indicators),
        "D": flag_territories(con, indicators),
    }
