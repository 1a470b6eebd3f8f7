"""One country's share of a refresh: its snapshot from the warehouse and its profile report from
that snapshot. Neither writes to the warehouse: the snapshot reads it (a read-only connection
will do, so several countries can be published by several processes at once) and the report
reads only snapshot files.
"""

from __future__ import annotations

import multiprocessing
import os
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from indicators.checks import data_gaps, indicator_outcomes, summary
from publish.approvals import compared_with, latest_approved
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
from sources.atomic import copy_atomically, sweep_leftovers, write_atomically
from sources.expectations import verdict
from sources.reporting import RegisterError
from sources.specs import SourceSpec
from sources.synthetic import synthetic_sources
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


@dataclass(frozen=True)
class CountryReport:
    country: str
    status: str  # written or unchanged
    path: str | None
    languages: list[str]


def _render_edition(snap: dict, folder: Path, languages: list[str], snapshots_dir: Path) -> list:
    """One edition's page and print edition in each language: <version>.<lang>.html and .pdf."""
    previous = compared_with(snapshots_dir, snap["country"], snap["version"])
    written = []
    for language in languages:
        builder = ProfileBuilder(Path(snap["path"]), language, previous)
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
        written.append((language, page, printed))
    return written


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


def build_country_report(
    country: str, snapshots_dir: Path, reports_dir: Path, configuration: str | None
) -> CountryReport:
    """The country's profile report, in each of its languages: its newest edition as
    `<version>.<lang>.html/.pdf` (also `draft.*` while it is a draft, marked as one on every
    page), and its latest approved edition as `latest.*`, what the public reads. Kept as it is
    when already built from the same editions, approvals and configuration."""
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
    written = _render_edition(newest, folder, languages, snapshots_dir)
    _point(folder, "draft", written if is_draft else [], default)
    shown = written if not is_draft else []
    if approved and is_draft:
        kept = (before or {}).get("approved") == approved["version"] and (
            (before or {}).get("configuration") == configuration
        )
        pages = [
            (
                x,
                folder / SIBLING.format(version=approved["version"], lang=x),
                folder / PRINT_EDITION.format(version=approved["version"], lang=x),
            )
            for x in languages
        ]
        if kept and all(page.is_file() and printed.is_file() for _, page, printed in pages):
            shown = pages
        else:
            shown = _render_edition(approved, folder, languages, snapshots_dir)
    _point(folder, "latest", shown, default)
    record_reports_built_from(folder, built_from)
    path = next((str(page) for language, page, _ in written if language == default), None)
    return CountryReport(country, "written", path, languages)


def _report_or_error(args: tuple) -> CountryReport | str:
    """One country's reports in a worker process: the result, or why it failed (one country's
    failure never stops the others')."""
    country, snapshots_dir, reports_dir, configuration = args
    try:
        return build_country_report(country, snapshots_dir, reports_dir, configuration)
    except Exception as err:  # noqa: BLE001 - reported per country by the caller
        return f"{type(err).__name__}: {' '.join(str(err).split())[:300]}"


def build_country_reports(
    countries: list[str],
    snapshots_dir: Path,
    reports_dir: Path,
    configuration: str | None,
    workers: int | None = None,
) -> dict[str, CountryReport | str]:
    """Every country's reports (HTML and PDF in each language), countries side by side in
    worker processes, one per core: each reads only its snapshot and writes only its own
    folder. A country maps to its CountryReport, or to why it failed."""
    jobs = [(c, Path(snapshots_dir), Path(reports_dir), configuration) for c in countries]
    workers = min(len(jobs), workers or os.cpu_count() or 1)
    if workers <= 1:
        return {job[0]: _report_or_error(job) for job in jobs}
    context = multiprocessing.get_context("spawn")  # no inherited locks or open warehouse
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return dict(zip(countries, pool.map(_report_or_error, jobs), strict=True))
