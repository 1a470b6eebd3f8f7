"""One country's share of a refresh: its snapshot from the warehouse and its profile report from
that snapshot. Neither writes to the warehouse: the snapshot reads it (a read-only connection
will do, so several countries can be published by several processes at once) and the report
reads only snapshot files.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from indicators.checks import data_gaps, indicator_outcomes, summary
from publish.approvals import compared_with, latest_approved
from publish.chart_cache import chart_cache, prune
from publish.pdf import PRINT_EDITION, print_builder
from publish.report import (
    SIBLING,
    ProfileBuilder,
    profile_languages,
    record_reports_built_from,
    render_builder,
    reports_built_from,
)
from publish.site_chrome import SITE_VARIANT, country_bar
from publish.snapshot_index import list_snapshots
from publish.snapshots import publish_snapshot
from publish.workers import map_in_processes
from sources.atomic import copy_atomically, sweep_leftovers, write_atomically
from sources.expectations import verdict
from sources.reporting import RegisterError
from sources.specs import SourceSpec
from sources.synthetic import synthetic_sources
from warehouse.db import connect
from warehouse.held_back import held_back
from warehouse.reporting import reporting_status


@dataclass(frozen=True)
class CountrySnapshot:
    country: str
    status: str  # published, unchanged or no_data
    path: str | None = None
    rows: int = 0


def publish_country(
    con: duckdb.DuckDBPyConnection,
    country: str,
    snapshots_dir: Path,
    specs: dict[str, SourceSpec],
    disclosure: dict,
    version: str,
    force: bool = False,
    specs_folder: Path | None = None,
) -> CountrySnapshot:
    """Check the country's indicators and publish its snapshot as `version` (or note that its
    content is unchanged since the latest one, unless `force`)."""
    rows = con.execute(
        "SELECT count(*) FROM marts.indicators WHERE ref_area = ?", [country]
    ).fetchone()[0]
    if not rows:
        return CountrySnapshot(country, "no_data")
    outcomes = indicator_outcomes(con, country)
    validation = {
        **summary(outcomes),
        "passed": verdict(outcomes) != "failed",
        "checks": [o.as_dict() for o in outcomes],
        "gaps": data_gaps(con, country, specs),
        "held_back": held_back(con, country),
    }
    if specs_folder is not None:  # who owes which file, and what came (Part D)
        try:
            statuses = reporting_status(con, specs_folder, country, specs, datetime.now(UTC).date())
        except RegisterError as err:  # a register that cannot be read: said in Part D
            validation["reporting_problem"] = str(err)
        else:
            if statuses:
                validation["reporting"] = [s.as_dict() for s in statuses]
    path = publish_snapshot(
        con,
        country,
        snapshots_dir,
        validation,
        disclosure=disclosure,
        synthetic=synthetic_sources(specs),
        version=version,
        skip_unchanged=not force,
    )
    if not path.name.startswith(version):
        return CountrySnapshot(country, "unchanged", str(path))
    return CountrySnapshot(country, "published", str(path), rows)


#: From this many countries on, snapshots are published by one worker process per core; for
#: fewer, in the calling process: a worker's start (importing the validation library, about
#: 4 s) costs more than it saves on a few countries at about 2.5 s each.
PARALLEL_SNAPSHOTS_FROM = 8


def _publish_share(job: tuple) -> list[CountrySnapshot]:
    """One worker's share of the countries, read through its own read-only connection."""
    database, wait_seconds, countries, arguments = job
    with connect(database, wait_seconds=wait_seconds, read_only=True) as con:
        return [publish_country(con, country, *arguments) for country in countries]


def publish_countries(
    database: Path,
    countries: list[str],
    snapshots_dir: Path,
    specs: dict[str, SourceSpec],
    disclosure: dict,
    version: str,
    force: bool = False,
    specs_folder: Path | None = None,
    wait_seconds: float = 0.0,
    workers: int | None = None,
) -> list[CountrySnapshot]:
    """`publish_country` for each country, in order: side by side in worker processes (each
    with its share of the countries and a read-only connection) from PARALLEL_SNAPSHOTS_FROM
    countries on, else here. A country's failure raises, as it would here."""
    arguments = (snapshots_dir, specs, disclosure, version, force, specs_folder)
    shares = min(workers or os.cpu_count() or 1, len(countries))
    if len(countries) < PARALLEL_SNAPSHOTS_FROM:
        shares = 1
    jobs = [(database, wait_seconds, countries[i::shares], arguments) for i in range(shares)]
    done = map_in_processes(_publish_share, jobs, shares)
    found = {s.country: s for share in done for s in share}
    return [found[country] for country in countries]


@dataclass(frozen=True)
class CountryReport:
    country: str
    status: str  # written or unchanged
    path: str | None
    languages: list[str]


def _render_language(job: tuple) -> tuple[str, Path, Path]:
    """One edition's page, its site variant and its print edition in one language:
    <version>.<lang>.html, site/<version>.<lang>.html and <version>.<lang>.pdf."""
    snap, folder, language, snapshots_dir, charts = job
    previous = compared_with(snapshots_dir, snap["country"], snap["version"])
    builder = ProfileBuilder(Path(snap["path"]), language, previous, charts)
    context = builder.context()
    page = write_atomically(
        folder / SIBLING.format(version=snap["version"], lang=language),
        render_builder(builder, context=context),
    )
    # the same page with the public site's bar, which the site takes as it is
    bar = country_bar(language, snap["country"], snap["version"])
    write_atomically(
        folder / SITE_VARIANT.format(version=snap["version"], lang=language),
        render_builder(builder, context={**context, "site": bar}),
    )
    printed = folder / PRINT_EDITION.format(version=snap["version"], lang=language)
    print_builder(builder, printed, context)
    return language, page, printed


def _point(folder: Path, name: str, written: list, default: str) -> None:
    """`<name>.<lang>.html/.pdf` (and `<name>.html` in the default language) as copies of one
    edition's files; with nothing written, the old copies go."""
    if not written:
        for stale in folder.glob(f"{name}.*"):
            stale.unlink()
        return
    for language, page, printed in written:
        copy_atomically(page, folder / f"{name}.{language}.html")
        copy_atomically(printed, folder / f"{name}.{language}.pdf")
        if language == default:
            copy_atomically(page, folder / f"{name}.html")


@dataclass(frozen=True)
class _ReportPlan:
    """What a country's report needs: the editions to render in each of its languages, and
    what the pointers (draft.*, latest.*) will point at once they are rendered."""

    country: str
    folder: Path
    default: str
    languages: list[str]
    built_from: dict
    newest: dict
    approved: dict | None
    is_draft: bool
    editions: list[dict]  # rendered: the newest, and the approved one when not kept

    def jobs(self, snapshots_dir: Path, charts: Path | None) -> list[tuple]:
        """(edition, folder, language, snapshots_dir, chart cache) for each page to render."""
        return [
            (s, self.folder, x, snapshots_dir, charts)
            for s in self.editions
            for x in self.languages
        ]


def _plan_report(
    country: str, snapshots_dir: Path, reports_dir: Path, configuration: str | None
) -> CountryReport | _ReportPlan:
    """The country's report as it stands (unchanged), or the plan to build it."""
    found = list_snapshots(snapshots_dir, country)
    if not found:
        raise FileNotFoundError(f"{country}: no snapshot to build the profile report from")
    newest = found[-1]
    approved = latest_approved(snapshots_dir, country)
    folder = reports_dir / "profile" / country
    sweep_leftovers(folder, recursive=False)
    default, languages = profile_languages(country)
    built_from = {
        "snapshot": newest["version"],
        "approved": approved["version"] if approved else None,
        "configuration": configuration,
        "languages": languages,
    }
    is_draft = not approved or approved["version"] != newest["version"]
    present = [folder / SIBLING.format(version=newest["version"], lang=x) for x in languages]
    present += [folder / PRINT_EDITION.format(version=newest["version"], lang=x) for x in languages]
    present += [folder / SITE_VARIANT.format(version=newest["version"], lang=x) for x in languages]
    if approved:
        present += [folder / "latest.html", *(folder / f"latest.{x}.html" for x in languages)]
    if is_draft:
        present += [folder / f"draft.{x}.pdf" for x in languages]
    before = reports_built_from(folder)
    if configuration and before == built_from and all(p.is_file() for p in present):
        return CountryReport(country, "unchanged", None, languages)
    editions = [newest]
    if (
        approved
        and is_draft
        and not _approved_kept(folder, approved, languages, before, configuration)
    ):
        editions.append(approved)
    return _ReportPlan(
        country, folder, default, languages, built_from, newest, approved, is_draft, editions
    )


def _approved_pages(folder: Path, approved: dict, languages: list[str]) -> list[tuple]:
    return [
        (
            x,
            folder / SIBLING.format(version=approved["version"], lang=x),
            folder / PRINT_EDITION.format(version=approved["version"], lang=x),
        )
        for x in languages
    ]


def _approved_kept(
    folder: Path, approved: dict, languages: list[str], before: dict | None, configuration
) -> bool:
    """Whether the approved edition's pages built before still stand (same configuration)."""
    kept = (before or {}).get("approved") == approved["version"] and (
        (before or {}).get("configuration") == configuration
    )
    pages = _approved_pages(folder, approved, languages)
    return kept and all(page.is_file() and printed.is_file() for _, page, printed in pages)


def _finish_report(plan: _ReportPlan, rendered: dict[tuple[str, str], tuple]) -> CountryReport:
    """Point draft.* and latest.* at the rendered editions and record what they came from;
    `rendered` maps (version, language) to what `_render_language` returned."""
    written = [rendered[(plan.newest["version"], x)] for x in plan.languages]
    _point(plan.folder, "draft", written if plan.is_draft else [], plan.default)
    shown = written if not plan.is_draft else []
    if plan.approved and plan.is_draft:
        version = plan.approved["version"]
        if plan.approved in plan.editions:
            shown = [rendered[(version, x)] for x in plan.languages]
        else:
            shown = _approved_pages(plan.folder, plan.approved, plan.languages)
    _point(plan.folder, "latest", shown, plan.default)
    record_reports_built_from(plan.folder, plan.built_from)
    path = next((str(page) for language, page, _ in written if language == plan.default), None)
    return CountryReport(plan.country, "written", path, plan.languages)


def build_country_report(
    country: str, snapshots_dir: Path, reports_dir: Path, configuration: str | None
) -> CountryReport:
    """The country's profile report, in each of its languages: its newest edition as
    `<version>.<lang>.html/.pdf` (also `draft.*` while it is a draft, marked as one on every
    page), and its latest approved edition as `latest.*`, what the public reads. Kept as it is
    when already built from the same editions, approvals and configuration."""
    plan = _plan_report(country, snapshots_dir, reports_dir, configuration)
    if isinstance(plan, CountryReport):
        return plan
    rendered = {}
    for job in plan.jobs(snapshots_dir, chart_cache(reports_dir)):
        rendered[(job[0]["version"], job[2])] = _render_language(job)
    return _finish_report(plan, rendered)


def _why(err: Exception) -> str:
    return f"{type(err).__name__}: {' '.join(str(err).split())[:300]}"


def _render_or_error(job: tuple) -> tuple | str:
    """One edition in one language in a worker process: what it wrote, or why it failed (one
    country's failure never stops the others')."""
    try:
        return _render_language(job)
    except Exception as err:  # noqa: BLE001 - reported per country by the caller
        return _why(err)


def build_country_reports(
    countries: list[str],
    snapshots_dir: Path,
    reports_dir: Path,
    configuration: str | None,
    workers: int | None = None,
) -> dict[str, CountryReport | str]:
    """Every country's reports (HTML and PDF in each language), each edition and language
    rendered side by side in worker processes, one per core (one new file republishes one
    country: its languages share the cores): a worker reads only a snapshot and writes only
    its own files. A country maps to its CountryReport, or to why it failed."""
    snapshots_dir, reports_dir = Path(snapshots_dir), Path(reports_dir)
    results: dict[str, CountryReport | str] = {}
    plans: dict[str, _ReportPlan] = {}
    for country in countries:
        try:
            plan = _plan_report(country, snapshots_dir, reports_dir, configuration)
        except Exception as err:  # noqa: BLE001 - one country's failure stops only itself
            results[country] = _why(err)
            continue
        if isinstance(plan, CountryReport):
            results[country] = plan
        else:
            plans[country] = plan
    charts = chart_cache(reports_dir)
    jobs = [job for plan in plans.values() for job in plan.jobs(snapshots_dir, charts)]
    outcomes = map_in_processes(_render_or_error, jobs, workers)
    prune(charts)
    for country, plan in plans.items():
        mine = [
            (job, out)
            for job, out in zip(jobs, outcomes, strict=True)
            if job[0]["country"] == country
        ]
        failed = next((out for _, out in mine if isinstance(out, str)), None)
        if failed is not None:
            results[country] = failed
            continue
        try:
            results[country] = _finish_report(
                plan, {(job[0]["version"], job[2]): out for job, out in mine}
            )
        except Exception as err:  # noqa: BLE001
            results[country] = _why(err)
    return {country: results[country] for country in countries}
