"""What was received for each dataset a register says is owed: every batch with the periods it
holds and whether it validated, and every file held back before it became a batch; and the
reporting status those give (sources/reporting.py)."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import duckdb

from sources.reporting import (
    Obligation,
    PeriodStatus,
    Receipt,
    obligations,
    period_statuses,
)
from sources.specs import SourceSpec
from sources.submissions import period_in_name


def _raw_tables(con: duckdb.DuckDBPyConnection) -> set[str]:
    return {
        name
        for (name,) in con.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = 'raw'"
        ).fetchall()
    }


def receipts(
    con: duckdb.DuckDBPyConnection, datasets: list[str], specs: dict[str, SourceSpec]
) -> list[Receipt]:
    """Every file received for `datasets`, as batches (periods read from the raw rows) or as
    files held back before loading (periods from the file name where the spec takes them
    from there)."""
    found: list[Receipt] = []
    tables = _raw_tables(con)
    batches = con.execute(
        "SELECT batch_id, source_id, file_name, loaded_at, coalesce(validation, 'passed') "
        "FROM meta.batches WHERE list_contains(?, source_id) ORDER BY loaded_at",
        [datasets],
    ).fetchall()
    held = con.execute(
        "SELECT source_id, item, reason, recorded_at FROM meta.held_back "
        "WHERE origin = 'national' AND list_contains(?, source_id)",
        [datasets],
    ).fetchall()
    reasons = {(source, Path(item).name): reason for source, item, reason, _ in held}
    periods: dict[str, tuple[str, ...]] = {}
    for source in {b[1] for b in batches} & tables:
        for batch, held_periods in con.execute(
            f'SELECT batch_id, list(DISTINCT time_period ORDER BY time_period) FROM raw."{source}" '
            "GROUP BY batch_id"
        ).fetchall():
            periods[batch] = tuple(held_periods)
    as_batches = set()
    for batch, source, file_name, loaded_at, validation in batches:
        failed = validation == "failed"
        as_batches.add((source, file_name))
        found.append(
            Receipt(
                source,
                periods.get(batch, ()),
                loaded_at,
                batch,
                not failed,
                reasons.get((source, file_name)) if failed else None,
            )
        )
    for source, item, reason, recorded_at in held:
        name = Path(item).name
        if (source, name) in as_batches:
            continue
        spec = specs.get(source)
        period = period_in_name(spec, Path(name)) if spec else None
        found.append(Receipt(source, (period,) if period else (), recorded_at, item, False, reason))
    return found


def described(specs: dict[str, SourceSpec]) -> dict[str, dict]:
    """What a register entry may leave out, from each dataset's spec."""
    return {
        spec.id: {
            "ministry": spec.ministry,
            "ministry_name": spec.ministry_name,
            "dataset_name": spec.dataset,
            "periodicity": spec.period.frequency,
        }
        for spec in specs.values()
    }


def reporting_status(
    con: duckdb.DuckDBPyConnection,
    specs_folder: Path,
    country: str,
    specs: dict[str, SourceSpec],
    as_of: date,
    entries: list[Obligation] | None = None,
) -> list[PeriodStatus]:
    """The status of every period the country's register says is owed, as of `as_of`."""
    entries = obligations(specs_folder, country) if entries is None else entries
    if not entries:
        return []
    got = receipts(con, [e.dataset for e in entries], specs)
    return period_statuses(entries, described(specs), got, as_of)


def registered(specs_folder: Path) -> list[tuple[str, Obligation]]:
    """Every (country, dataset) the registers name; a register that cannot be read names none
    (`emp status` and Part D say why)."""
    from sources.reporting import RegisterError, registered_countries

    found = []
    for country in registered_countries(specs_folder):
        try:
            found += [(country, entry) for entry in obligations(specs_folder, country)]
        except RegisterError:
            continue
    return found


def overdue_by_dataset(
    con: duckdb.DuckDBPyConnection, specs_folder: Path, specs: dict[str, SourceSpec], as_of: date
) -> dict[str, list[PeriodStatus]]:
    """Every registered dataset and the status of each period it owes."""
    from sources.reporting import RegisterError, registered_countries

    found: dict[str, list[PeriodStatus]] = {}
    for country in registered_countries(specs_folder):
        try:
            rows = reporting_status(con, specs_folder, country, specs, as_of)
        except RegisterError:
            continue
        for row in rows:
            found.setdefault(row.dataset, []).append(row)
    return found


def previous_records(con: duckdb.DuckDBPyConnection, dataset: str) -> list[dict]:
    """The rows of the dataset's latest batch that passed validation, as the file had them
    (keyed by its headers): what a collection template shows as the previous edition."""
    import json

    if dataset not in _raw_tables(con):
        return []
    found = con.execute(
        "SELECT batch_id FROM meta.batches WHERE source_id = ? "
        "AND coalesce(validation, 'passed') <> 'failed' ORDER BY loaded_at DESC LIMIT 1",
        [dataset],
    ).fetchone()
    if not found:
        return []
    rows = con.execute(
        f'SELECT DISTINCT source_row, record FROM raw."{dataset}" WHERE batch_id = ? '
        "ORDER BY source_row",
        [found[0]],
    ).fetchall()
    return [json.loads(record) for _, record in rows if record]


def deadline_for(specs_folder: Path, dataset: str, period: str) -> date | None:
    """The deadline a register gives the dataset's period, if one does."""
    from sources.reporting import RegisterError, deadline_of, registered_countries

    for country in registered_countries(specs_folder):
        try:
            entries = obligations(specs_folder, country)
        except RegisterError:
            continue
        for entry in entries:
            if entry.dataset == dataset:
                return deadline_of(entry, period)
    return None
