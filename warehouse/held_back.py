"""What a refresh held back, and why: spec files that do not validate, files waiting for their
spec or still being written, files refused, batches that broke an `error` rule, public files
missing. Each is recorded in meta.held_back for the refresh summary, the validation report,
the snapshot manifest and Part D of the profile it concerns."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import duckdb

from sources.specs import SpecSet

EVERY_PROFILE = "*"


def replace_held_back(con: duckdb.DuckDBPyConnection, origin: str, rows: Iterable[tuple]) -> None:
    """What step `origin` holds back this time: (source id, country, item, reason) rows."""
    now = datetime.now(UTC).replace(tzinfo=None)
    con.execute("DELETE FROM meta.held_back WHERE origin = ?", [origin]).fetchall()
    for source_id, country, item, reason in rows:
        con.execute(
            "INSERT INTO meta.held_back VALUES (?, ?, ?, ?, ?, ?)",
            [origin, source_id, country or EVERY_PROFILE, item, reason, now],
        ).fetchall()


def record_held_back(con: duckdb.DuckDBPyConnection, specs: SpecSet, outcomes: list) -> None:
    """The ministry side: held-back specs and every file not loaded into core this time."""
    countries = {s.id: s.country for s in specs.specs.values()}
    rows = []
    for held in specs.held_back:
        if held.id:
            countries.setdefault(held.id, held.country)
        rows.append((held.id, held.country, held.path, held.reason))
    for outcome in outcomes:
        if outcome.status in ("rejected", "waiting", "held back"):
            country = countries.get(outcome.spec_id or "", EVERY_PROFILE)
            reason = outcome.message or outcome.status
            rows.append((outcome.spec_id, country, f"{outcome.ministry}/{outcome.file}", reason))
    replace_held_back(con, "national", rows)


def record_public(con: duckdb.DuckDBPyConnection, rows: Iterable[tuple]) -> None:
    """The publishers' side: (source_id or None, item, reason) for every release or file not
    used this refresh; they concern every profile."""
    con.execute("DELETE FROM meta.held_back WHERE origin LIKE 'public:%'").fetchall()
    replace_held_back(
        con, "public", [(source, EVERY_PROFILE, item, reason) for source, item, reason in rows]
    )


def held_back(con: duckdb.DuckDBPyConnection, country: str | None = None) -> list[dict]:
    """What was held back, for one profile (with what concerns every profile) or for all."""
    query = "SELECT source_id, country, item, reason FROM meta.held_back"
    params: list = []
    if country:
        query += " WHERE country IN (?, ?)"
        params = [country, EVERY_PROFILE]
    rows = con.execute(query + " ORDER BY origin, item", params).fetchall()
    return [dict(zip(("source_id", "country", "item", "reason"), r, strict=True)) for r in rows]
