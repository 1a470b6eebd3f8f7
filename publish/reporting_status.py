"""`emp status`: the reporting status of each country (who owes which file, what arrived, what is
late or missing), from the warehouse as it is now or from an edition as it was published, shown
in the reader's language."""

from __future__ import annotations

import json
from contextlib import nullcontext
from datetime import UTC, date, datetime
from pathlib import Path

from rich.console import Console
from rich.table import Table

from publish.snapshot_check import read_manifest
from sources.i18n import _, current_language, format_day, format_share, localise
from sources.reporting import (
    STATUSES,
    RegisterError,
    by_dataset,
    obligations,
    period_statuses,
    rates,
)


def edition_status(snapshots: Path, country: str, version: str) -> dict:
    """The reporting status an edition recorded when it was made."""
    manifest = read_manifest(Path(snapshots) / country / version)
    validation = manifest.get("validation", {})
    return {
        "as_of": manifest["created_at"][:10],
        "edition": version,
        "periods": validation.get("reporting") or [],
        "problem": validation.get("reporting_problem"),
    }


def live_status(settings, countries: list[str], as_of: date | None = None) -> dict[str, dict]:
    """Each country's reporting status from the warehouse as it is now (read only); before the
    first refresh nothing was received, so every period owed is overdue or not yet due."""
    from sources.specs import spec_set
    from warehouse.db import connect
    from warehouse.reporting import described, reporting_status

    as_of = as_of or datetime.now(UTC).date()
    specs = spec_set(settings.specs).specs
    database = Path(settings.database)
    found = {}
    with connect(database, read_only=True) if database.exists() else nullcontext() as con:
        for country in countries:
            entry = {"as_of": as_of.isoformat(), "edition": None, "periods": [], "problem": None}
            try:
                if con is None:
                    entries = obligations(settings.specs, country)
                    rows = period_statuses(entries, described(specs), [], as_of)
                else:
                    rows = reporting_status(con, settings.specs, country, specs, as_of)
                entry["periods"] = [r.as_dict() for r in rows]
            except RegisterError as err:
                entry["problem"] = str(err)
            found[country] = entry
    return found


def print_status(found: dict[str, dict], as_json: bool) -> int:
    """The status tables, or JSON; exit 1 when a period due is overdue or held back."""
    language = current_language()
    late = any(
        p["status"] in ("overdue", "held_back")
        for entry in found.values()
        for p in entry["periods"]
    )
    if as_json:
        print(
            json.dumps(
                {
                    country: {
                        **entry,
                        "datasets": by_dataset(entry["periods"]),
                        "rates": rates(entry["periods"]),
                    }
                    for country, entry in found.items()
                },
                indent=2,
                ensure_ascii=False,
            )
        )
        return 1 if late else 0
    console = Console()
    for country, entry in found.items():
        when = format_day(entry["as_of"], language)
        title = (
            _(
                "{country}: reporting status in edition {edition} ({date})",
                country=country,
                edition=entry["edition"],
                date=when,
            )
            if entry["edition"]
            else _("{country}: reporting status on {date}", country=country, date=when)
        )
        if entry["problem"]:
            console.print(title)
            console.print(
                _(
                    "The register of what is owed could not be read: {reason}",
                    reason=localise(entry["problem"]),
                )
            )
            continue
        if not entry["periods"]:
            console.print(title)
            console.print(_("No register of what is owed for this country."))
            continue
        table = Table(title=title, show_lines=True)
        for column in (
            _("Ministry or office"),
            _("Dataset"),
            _("Periods owed"),
            _("Status"),
            _("Last received"),
        ):
            table.add_column(column)
        for line in by_dataset(entry["periods"]):
            received = (
                f"{format_day(line['received_at'][:10], language)}\n{line['batch']}"
                if line["received_at"]
                else ""
            )
            states = [
                _("{status}: {periods}", status=_(STATUSES[s]), periods=", ".join(line[s]))
                for s in STATUSES
                if line[s]
            ] + [localise(r) for r in line["reasons"]]
            table.add_row(
                line["ministry_name"],
                line["dataset_name"],
                str(line["owed"]),
                "\n".join(states),
                received,
            )
        console.print(table)
        shares = Table(title=_("Completeness and timeliness"))
        for column in (
            _("Ministry or office"),
            _("Periods due"),
            _("Completeness"),
            _("Timeliness"),
        ):
            shares.add_column(column)
        for rate in rates(entry["periods"]):
            shares.add_row(
                rate["ministry_name"] or _("All ministries and offices"),
                str(rate["due"]),
                format_share(rate["completeness"], language),
                format_share(rate["timeliness"], language),
            )
        console.print(shares)
    return 1 if late else 0
