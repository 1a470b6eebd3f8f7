"""Checks on the indicator outputs (Great Expectations, suite in indicators/expectations.yaml),
catalogue coverage, and the data gaps of a profile (EMP Part D)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import duckdb

from indicators.catalogue import catalogue
from sources.expectations import CheckOutcome, columns_read, parse_rules, validate_frame
from sources.specs import SourceSpec, spec_set
from sources.yaml_files import read_yaml

SUITE_PATH = Path(__file__).parent / "expectations.yaml"


def indicator_suite():
    return parse_rules(read_yaml(SUITE_PATH), str(SUITE_PATH))


def indicator_outcomes(
    con: duckdb.DuckDBPyConnection, ref_area: str | None = None
) -> list[CheckOutcome]:
    """The indicator suite on marts.indicators (one country's rows, or all)."""
    where, params = ("WHERE ref_area = ?", [ref_area]) if ref_area else ("", [])
    suite = indicator_suite()
    present = {r[0] for r in con.execute("DESCRIBE marts.indicators").fetchall()}
    needed = columns_read(suite)
    drop = {"source_ids", "source_vintages", "batch_ids"}
    read = sorted(present - drop if needed is None else present & needed)  # the rest stays put
    frame = con.execute(
        f"SELECT {', '.join(read)}, row_number() OVER () AS source_row "
        f"FROM marts.indicators {where}",
        params,
    ).df()
    return validate_frame(frame, suite) + [catalogue_coverage(con, ref_area)]


def catalogue_coverage(con: duckdb.DuckDBPyConnection, ref_area: str | None = None) -> CheckOutcome:
    """Every catalogue indicator is computed, or listed as a gap with its reason. A gap the
    catalogue and the data explain (no source declared, or the loaded sources hold no value)
    is listed in Part D and passes; a declared source that delivered nothing warns."""
    gaps = data_gaps(con, ref_area)
    unexplained = [g for g in gaps if g["kind"] == "not_loaded"]
    return CheckOutcome(
        "catalogue_coverage",
        "warn",
        not unexplained,
        "every catalogue indicator is computed, or listed as a gap with its reason",
        len(unexplained),
        [
            {"row": None, "column": "indicator_id", "value": g["indicator_id"], "where": g}
            for g in unexplained
        ],
    )


def data_gaps(
    con: duckdb.DuckDBPyConnection,
    ref_area: str | None = None,
    specs: Mapping[str, SourceSpec] | None = None,
) -> list[dict]:
    """Catalogue indicators with no value (for the country, or anywhere), and why.

    `kind` says why, for the reader: `no_national_source` (no ministry or statistics-office file
    covering the country is declared for it), `not_loaded` (a source is declared but nothing
    was loaded from it) or `no_value` (the sources were loaded and hold no value for it).
    `sources` lists the sources that could give it."""
    where, params = ("WHERE ref_area = ?", [ref_area]) if ref_area else ("", [])
    present = {
        row[0]
        for row in con.execute(
            f"SELECT DISTINCT indicator_id FROM marts.indicators {where}", params
        ).fetchall()
    }
    loaded = {r[0] for r in con.execute("SELECT DISTINCT source_id FROM meta.batches").fetchall()}
    specs = spec_set(None).specs if specs is None else specs
    gaps = []
    for indicator in catalogue():
        if indicator.id in present:
            continue
        covering = [
            s
            for s in indicator.sources
            if s not in specs or not ref_area or specs[s].country in (ref_area, "*")
        ]
        missing = [s for s in covering if s not in loaded]
        if not covering:
            kind = "no_national_source"
            where = ref_area or "any country"
            reason = f"no ministry or statistics-office file gives it for {where} yet"
        elif missing:
            kind = "not_loaded"
            reason = f"no data loaded from {', '.join(missing)}"
        else:
            kind = "no_value"
            reason = f"no value for {ref_area or 'any country'} in {', '.join(covering)}"
        gaps.append(
            {
                "indicator_id": indicator.id,
                "kind": kind,
                "sources": missing or covering,
                "reason": reason,
            }
        )
    return gaps


def summary(outcomes: list[CheckOutcome]) -> dict:
    """Counts for a manifest or a report."""
    return {
        "run": len(outcomes),
        "passed": sum(o.success for o in outcomes),
        "warned": sum(not o.success and o.severity == "warn" for o in outcomes),
        "failed": sum(not o.success and o.severity == "error" for o in outcomes),
    }
