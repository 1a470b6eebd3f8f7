"""Assets per layer: raw (publishers' releases, ministry submissions, census), core, marts
(indicators), snapshots (per country).

Each asset only calls the plain functions of sources/, warehouse/ and indicators/ and reports
what they did as standard Dagster metadata.
"""

import warnings
from datetime import UTC, datetime, timedelta
from pathlib import Path

import dagster as dg
from dagster import AssetExecutionContext

from indicators.catalogue import catalogue, load_catalogue
from indicators.census import census_indicators
from indicators.census_checks import CHECK_DESCRIPTIONS as CENSUS_CELL_CHECKS
from indicators.census_checks import census_cell_checks
from indicators.checks import indicator_outcomes
from indicators.compute import compute_indicators
from indicators.reconciliation import RECONCILIATIONS, reconciliations
from pipelines.inputs import (
    CENSUS_FILES,
    CONFIGURATION_FILES,
    INTERNATIONAL_FILES,
    NATIONAL_FILES,
    build_inputs,
)
from pipelines.resources import WarehouseResource
from publish.country_profiles import build_country_reports, publish_countries
from publish.site import build_site
from publish.snapshots import refresh_version
from sources.atomic import sweep_leftovers
from sources.census.codebook import codebooks
from sources.census.generator import generate_census
from sources.expectations import CheckOutcome, verdict
from warehouse.baselines import build_baselines, requests_in_warehouse
from warehouse.batches import BatchReport
from warehouse.census import (
    CENSUS_SQL_RULES,
    census_sql_outcomes,
    confidential_cells,
    load_census,
    remember_confidential,
    store_census_indicators,
)
from warehouse.core import rebuild_core, refresh_areas
from warehouse.core_checks import RULES as CORE_SQL_RULES
from warehouse.core_checks import core_outcomes
from warehouse.fingerprints import code_version
from warehouse.held_back import record_held_back
from warehouse.ingest import ingest_folder, reread_archived
from warehouse.projects import rebuild_projects, refresh_admin_areas
from warehouse.releases import take_in_releases
from warehouse.report import validation_report, write_report
from warehouse.reporting import overdue_by_dataset, registered
from warehouse.schema import INDICATOR_COLUMNS, column_descriptions
from warehouse.settings import Settings
from warehouse.validation import store_outcomes

warnings.filterwarnings("ignore", category=dg.BetaWarning)

COUNTRIES = dg.StaticPartitionsDefinition(list(Settings.from_env().countries))
INPUT_ASSETS = build_inputs(COUNTRIES)
#: every asset carries the digest of the code and the data beside it as its code version
CODE_VERSION = code_version()
#: materialised by the automation sensor (off until switched on) once an input it rests on has
#: a new data version, or its code a new version
WHEN_STALE = dg.AutomationCondition.eager()


#: Run tags `emp refresh` sets: the version id all its snapshots share, and --force.
VERSION_TAG = "emp/version"
FORCE_TAG = "emp/force"
#: the digest of the code, catalogue, specs, templates and translations the run uses: a report
#: built from the same snapshot under the same configuration is not built again
CONFIGURATION_TAG = "emp/configuration"


def _schema(con, table: str) -> dg.TableSchema:
    rows = con.execute(f"DESCRIBE {table}").fetchall()
    return table_schema([(r[0], str(r[1])) for r in rows])


def table_schema(columns: list[tuple[str, str]]) -> dg.TableSchema:
    """A table's columns with their descriptions (warehouse/column_descriptions.yaml)."""
    described = column_descriptions()
    return dg.TableSchema(
        columns=[dg.TableColumn(name=n, type=t, description=described.get(n)) for n, t in columns]
    )


def expectations_result(reports: list[BatchReport]) -> dg.AssetCheckResult:
    """One check result for the batches an asset loaded: ERROR (blocking) if a batch loaded now
    failed its suite, WARN for warnings or for batches held back earlier."""
    failed_now = [r for r in reports if r.validation == "failed" and r.status == "loaded"]
    held_back = [r for r in reports if r.validation == "failed" and r.status != "loaded"]
    warned = [r for r in reports if r.validation == "warned"]
    failures = {
        r.batch_id: [
            {"check": o.name, "rule": o.description, "failures": o.failures[:10]}
            for o in r.outcomes
            if not o.success
        ]
        for r in reports
        if r.validation in ("failed", "warned")
    }
    # A failed batch is held back from core (core keeps the source's last good batch), so it
    # warns instead of blocking: one bad file holds back only itself.
    return dg.AssetCheckResult(
        check_name="expectations",
        passed=not (failed_now or held_back or warned),
        severity=dg.AssetCheckSeverity.WARN,
        description=f"{len(reports)} batch(es): {len(failed_now)} failed now, "
        f"{len(held_back)} held back earlier, {len(warned)} with warnings",
        metadata={"failures": dg.MetadataValue.json(failures)},
    )


def check_result(outcome: CheckOutcome, name: str | None = None) -> dg.AssetCheckResult:
    severity = (
        dg.AssetCheckSeverity.ERROR if outcome.severity == "error" else (dg.AssetCheckSeverity.WARN)
    )
    return dg.AssetCheckResult(
        check_name=name or outcome.name,
        passed=outcome.success,
        severity=severity,
        description=outcome.description,
        metadata={
            "failures": outcome.failure_count,
            "examples": dg.MetadataValue.json(outcome.failures[:20]),
        },
    )


def combined(outcomes: list[CheckOutcome]) -> CheckOutcome:
    """Several rules as one check: an error if any error rule failed."""
    failing = [o for o in outcomes if not o.success]
    status = verdict(outcomes)
    return CheckOutcome(
        "expectations",
        "error" if status == "failed" else "warn",
        not failing,
        f"{len(outcomes)} rules, {len(failing)} not met",
        sum(o.failure_count for o in failing),
        [dict(f, rule=o.description) for o in failing for f in o.failures[:5]],
    )


#: International releases are yearly: warn after 13 months without a refresh, fail after 25.
ANNUAL_RELEASE = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(days=760), warn_window=timedelta(days=400)
)
#: Ministries submit quarterly: warn after four months, fail after seven.
QUARTERLY_SUBMISSIONS = dg.FreshnessPolicy.time_window(
    fail_window=timedelta(days=210), warn_window=timedelta(days=120)
)


@dg.asset(
    code_version=CODE_VERSION,
    automation_condition=WHEN_STALE,
    key=["raw", "publisher_releases"],
    deps=[INTERNATIONAL_FILES],
    freshness_policy=ANNUAL_RELEASE,
    check_specs=[
        dg.AssetCheckSpec(
            "expectations",
            asset=dg.AssetKey(["raw", "publisher_releases"]),
            blocking=True,
            description="each series' suite (sources/expectations/<series>.yaml), run with "
            "Great Expectations on every release's harmonised rows",
        )
    ],
    group_name="raw",
    kinds={"duckdb"},
    description="International publishers' releases (UN DESA, World Bank/KNOMAD, WDI, UNHCR) in "
    "any edition and under any file name: every file in the public data folder, in "
    "archive/PUBLIC/ and dropped in inbox/PUBLIC/, recognised by its content "
    "(sources/publishers/series.yaml) and loaded as one batch per series with its edition as "
    "the vintage; idempotent by SHA-256, unreadable rows to meta.quarantine.",
)
def publisher_releases(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        outcomes = take_in_releases(
            con, Path(warehouse.public_data_dir), warehouse.inbox, warehouse.settle_seconds
        )
    new = [o for o in outcomes if o.status == "loaded"]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(o.batch.rows_loaded for o in outcomes if o.used),
            "files": len({o.file for o in outcomes}),
            "releases": dg.MetadataValue.md(releases_table(outcomes)),
            "new_releases": [f"{o.source_id}: {o.vintage} ({o.file})" for o in new],
            "not_used": [
                f"{o.file}: {o.message or o.status}"
                for o in outcomes
                if o.status in ("held back", "not recognised", "rejected", "waiting")
            ],
            "batches": dg.MetadataValue.json([o.as_dict() for o in outcomes]),
        },
        check_results=[expectations_result([o.batch for o in outcomes if o.batch])],
    )


def releases_table(outcomes: list) -> str:
    """The scan as a Markdown table: file, series, edition, status."""
    lines = ["| file | series | edition | status |", "|---|---|---|---|"]
    for o in outcomes:
        lines.append(
            f"| {Path(o.file).name} | {o.source_id or ''} | {o.edition or ''} | "
            f"{o.status}{': ' + o.message if o.message and not o.used else ''} |"
        )
    return "\n".join(lines)


RAW_ASSETS = [publisher_releases]


@dg.asset(
    code_version=CODE_VERSION,
    automation_condition=WHEN_STALE,
    key=["core", "areas"],
    group_name="core",
    kinds={"duckdb"},
    description="Reference areas: ISO 3166-1 countries (pycountry) with M49 codes, plus declared "
    "extras (Kosovo, Channel Islands, UNHCR's unknown/stateless origins).",
)
def core_areas(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        rows = refresh_areas(con)
        schema = _schema(con, "core.areas")
    return dg.MaterializeResult(
        metadata={"dagster/row_count": rows, "dagster/column_schema": schema}
    )


def reporting_checks(specs_folder: Path) -> dict[str, dg.AssetCheckSpec]:
    """One check per dataset the registers say is owed (`<ISO3>.reporting.yaml` beside the
    specs): it warns, as late, while a period is past its deadline with nothing valid received."""
    return {
        entry.dataset: dg.AssetCheckSpec(
            f"on_time_{entry.dataset}",
            asset=dg.AssetKey(["raw", "national_submissions"]),
            blocking=False,
            description=f"{country}: {entry.ministry_name or entry.ministry or entry.dataset} "
            f"sends {entry.dataset_name or entry.dataset} from {entry.first}, within "
            f"{entry.days_after_period} days of each period's end; late while a period is past "
            "its deadline with nothing valid received",
        )
        for country, entry in registered(Path(Settings.from_env().specs))
    }


REPORTING_CHECKS = reporting_checks(Path(Settings.from_env().specs))


def reporting_results(statuses: dict[str, list]) -> list[dg.AssetCheckResult]:
    """Each registered dataset's deadline check: failed (a warning) while a period is overdue
    or held back, with what is late in the metadata."""
    results = []
    for dataset, spec in REPORTING_CHECKS.items():
        rows = statuses.get(dataset, [])
        late = [r.period for r in rows if r.status in ("overdue", "held_back")]
        results.append(
            dg.AssetCheckResult(
                check_name=spec.name,
                passed=not late,
                severity=dg.AssetCheckSeverity.WARN,
                description=f"late: {', '.join(late)}" if late else "every period due received",
                metadata={
                    **{
                        status: [r.period for r in rows if r.status == status]
                        for status in ("on_time", "late", "held_back", "overdue", "not_due")
                    },
                    "deadlines": {r.period: r.deadline for r in rows},
                },
            )
        )
    return results


@dg.asset(
    code_version=CODE_VERSION,
    automation_condition=WHEN_STALE,
    key=["raw", "national_submissions"],
    deps=[NATIONAL_FILES, CONFIGURATION_FILES],
    check_specs=[
        dg.AssetCheckSpec(
            "expectations",
            asset=dg.AssetKey(["raw", "national_submissions"]),
            blocking=True,
            description="each spec's expectation suite (sources/specs/), run with Great "
            "Expectations on every batch; a failed batch stays out of core",
        ),
        *REPORTING_CHECKS.values(),
    ],
    group_name="raw",
    kinds={"duckdb"},
    freshness_policy=QUARTERLY_SUBMISSIONS,
    description="Ministry submissions, each file matched to its source spec (sources/specs/) "
    "and loaded as one batch: the bundled sample files, then every file dropped in the inbox "
    "(moved to archive/ with its batch report, or to rejected/ with the reason).",
)
def national_submissions(warehouse: WarehouseResource) -> dg.MaterializeResult:
    found = warehouse.spec_set
    specs = found.specs
    for folder in ("staging", "archive", "rejected"):  # what a killed run left half-written
        sweep_leftovers(warehouse.archive.parent / folder)
    with warehouse.connect() as con:
        outcomes = ingest_folder(con, Path(warehouse.national_data_dir), specs, held_specs=found)
        if warehouse.national_statistics_dir:  # real statistics-office files, read in place
            statistics = Path(warehouse.national_statistics_dir)
            outcomes += ingest_folder(con, statistics, specs, held_specs=found, only_specs=True)
        outcomes += ingest_folder(
            con,
            warehouse.inbox,
            specs,
            warehouse.archive,
            warehouse.rejected,
            settle_seconds=warehouse.settle_seconds,
            held_specs=found,
        )
        outcomes += reread_archived(con, warehouse.archive, specs)
        record_held_back(con, found, outcomes)
        statuses = overdue_by_dataset(
            con, Path(warehouse.specs_dir), specs, datetime.now(UTC).date()
        )
    table = [o.as_dict() for o in outcomes]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(o.batch.rows_loaded for o in outcomes if o.batch),
            "files": len(outcomes),
            "loaded": sum(o.status == "loaded" for o in outcomes),
            "rejected": [
                f"{o.ministry}/{o.file}: {o.message}" for o in outcomes if o.status == "rejected"
            ],
            "waiting": [
                f"{o.ministry}/{o.file}: {o.message}" for o in outcomes if o.status == "waiting"
            ],
            "specs_held_back": found.problems(),
            "batches": dg.MetadataValue.json(table),
        },
        check_results=[
            expectations_result([o.batch for o in outcomes if o.batch]),
            *reporting_results(statuses),
        ],
    )


def sql_check_specs(key: list[str], rules: dict[str, tuple[str, str]]) -> list:
    """Blocking check specs for SQL rules (name -> (description, query))."""
    return [
        dg.AssetCheckSpec(name, asset=dg.AssetKey(key), blocking=True, description=description)
        for name, (description, _) in rules.items()
    ]


CORE_CHECKS = sql_check_specs(["core", "observations"], CORE_SQL_RULES)


@dg.asset(
    code_version=CODE_VERSION,
    automation_condition=WHEN_STALE,
    key=["core", "observations"],
    check_specs=CORE_CHECKS,
    group_name="core",
    kinds={"duckdb"},
    deps=[core_areas, national_submissions, *RAW_ASSETS],
    description="Harmonised long observations (SDMX-like, `_T` for totals) from the releases of "
    "every publisher series present (the newest edition preferred for each value, older ones "
    "kept in core.superseded_observations) and every batch of every ministry dataset; countries in "
    "core.observations, regions, income groups and world totals in core.aggregate_observations.",
)
def core_observations(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        per_source = rebuild_core(con, warehouse.specs)
        total = con.execute("SELECT count(*) FROM core.observations").fetchone()[0]
        schema = _schema(con, "core.observations")
        outcomes = core_outcomes(con)
        store_outcomes(con, "core", outcomes)
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": total,
            "dagster/column_schema": schema,
            "rows_by_source": per_source,
        },
        check_results=[check_result(o) for o in outcomes],
    )


CENSUS_CHECKS = sql_check_specs(["raw", "census"], CENSUS_SQL_RULES)


@dg.asset(
    code_version=CODE_VERSION,
    automation_condition=WHEN_STALE,
    key=["raw", "census"],
    deps=[CENSUS_FILES, CONFIGURATION_FILES],
    check_specs=CENSUS_CHECKS,
    group_name="raw",
    kinds={"duckdb", "parquet"},
    description="Census microdata, one file per codebook (sources/census/codebooks/): recoded by "
    "DuckDB into Parquet partitioned by country and census round, with views census.persons and "
    "census.members_abroad. The embedded default is a small SYNTHETIC sample per codebook "
    "(EMP_CENSUS_PERSONS persons, seeded). Row rules run in SQL.",
)
def census_microdata(warehouse: WarehouseResource) -> dg.MaterializeResult:
    loaded = {}
    sweep_leftovers(warehouse.census)  # what a killed run left half-written
    with warehouse.connect() as con:
        for codebook in codebooks().values():
            source = warehouse.census / "source" / codebook.id
            ext = "csv" if codebook.format == "csv" else "parquet"
            persons = source / f"{codebook.id}_persons.{ext}"
            abroad = source / f"{codebook.id}_members_abroad.{ext}"
            if not (persons.exists() and abroad.exists()):
                generate_census(codebook, warehouse.census_persons, source)
            loaded[codebook.id] = load_census(
                con, codebook, persons, abroad, warehouse.census / "parquet"
            )
        outcomes = census_sql_outcomes(con)
        store_outcomes(con, "census", outcomes)
        rows = con.execute("SELECT count(*) FROM census.persons").fetchall()[0][0]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "batches": {k: f"{b} ({status})" for k, (b, status) in loaded.items()},
        },
        check_results=[check_result(o) for o in outcomes],
    )


CENSUS_INDICATORS = dg.AssetKey(["core", "census_indicators"])


@dg.asset(
    code_version=CODE_VERSION,
    automation_condition=WHEN_STALE,
    key=CENSUS_INDICATORS,
    group_name="core",
    kinds={"duckdb", "spark"},
    deps=[CONFIGURATION_FILES, census_microdata],
    check_specs=[
        dg.AssetCheckSpec(name, asset=CENSUS_INDICATORS, description=text)
        for name, text in CENSUS_CELL_CHECKS.items()
    ],
    description="Census indicators (aggregates only) for the nation, regions and provinces, by "
    "sex and age group, from one pass over the persons. Every key has a row. Cells on 1 to "
    "EMP_SDC_THRESHOLD-1 unweighted records are suppressed (primary), then the cells that would "
    "give them away by subtraction (secondary), until a linear audit finds none derivable; "
    "cells outside a series' universe are published empty with OBS_STATUS M. Computed by DuckDB, "
    "or with EMP_CENSUS_ENGINE=spark by a Spark job launched through Dagster Pipes, which "
    "reports its row counts and checks back here; both give the same cells.",
)
def core_census_indicators(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    threshold = warehouse.disclosure["threshold"]  # refuses an unsafe threshold before any work
    with warehouse.connect() as con:
        carried = confidential_cells(con)  # what earlier editions kept confidential
    if warehouse.census_engine == "spark":
        from pipelines.census_spark import run_spark_census

        cells, reported, confidential = run_spark_census(
            context, warehouse.census / "parquet", warehouse.spark_master, threshold, carried
        )
        metadata, checks = dict(reported.metadata or {}), list(reported.check_results or [])
    else:
        found: list = []
        with warehouse.connect() as con:
            cells = census_indicators(con, threshold, carried=carried, confidential=found)
        confidential = found[0]
        lost = cells.attrs["disclosure"]["secondary_share_of_persons"]
        metadata = {"engine": "duckdb", "information_lost_share_of_persons": round(lost, 4)}
        checks = [
            dg.AssetCheckResult(
                check_name=check.name,
                passed=check.passed,
                metadata={"failing_cells": check.failing},
            )
            for check in census_cell_checks(cells, threshold)
        ]
    with warehouse.connect() as con:
        batches = dict(
            con.execute(
                "SELECT upper(replace(source_id, 'census_', '')), batch_id FROM meta.batches "
                "WHERE source_id LIKE 'census_%' QUALIFY row_number() OVER "
                "(PARTITION BY source_id ORDER BY loaded_at DESC) = 1"
            ).fetchall()
        )
        rows = store_census_indicators(con, cells, batches)
        newly_confidential = remember_confidential(con, confidential, threshold)
    return dg.MaterializeResult(
        metadata={
            **metadata,
            "dagster/row_count": rows,
            "suppressed": int(cells["suppressed"].sum()),
            "suppressed_primary": int((cells["suppression"] == "primary").sum()),
            "suppressed_secondary": int((cells["suppression"] == "secondary").sum()),
            "cannot_exist": int((cells["obs_status"] == "M").sum()),
            "threshold": threshold,
            "kept_confidential_from_earlier_editions": len(carried),
            "newly_confidential": newly_confidential,
        },
        check_results=checks,
    )


INDICATOR_CHECKS = [
    dg.AssetCheckSpec(
        "expectations",
        asset=dg.AssetKey(["marts", "indicators"]),
        blocking=True,
        description="indicators/expectations.yaml, run with Great Expectations on the mart, and "
        "catalogue coverage",
    ),
    *[
        dg.AssetCheckSpec(
            name,
            asset=dg.AssetKey(["marts", "indicators"]),
            description=f"reconciliation: {name.replace('_', ' ')}",
        )
        for name in RECONCILIATIONS
    ],
]


@dg.asset(
    code_version=CODE_VERSION,
    automation_condition=WHEN_STALE,
    key=["marts", "indicators"],
    check_specs=INDICATOR_CHECKS,
    group_name="marts",
    kinds={"duckdb"},
    deps=[core_observations, core_census_indicators],
    description="Every catalogue indicator for every country and year in the core layer, with "
    "its sources, vintages, denominator, basis and quality flag.",
)
def indicators(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        found = warehouse.spec_set
        counts = compute_indicators(
            con,
            load_catalogue(specs=found.specs, held_back=found.held_back_ids, strict_sources=False),
            found.specs,
        )
        outcomes = indicator_outcomes(con)
        reconciled = reconciliations(con, COUNTRIES.get_partition_keys())
        store_outcomes(con, "indicators", outcomes)
        store_outcomes(con, "reconciliation", reconciled)
        preview = con.execute(
            "SELECT indicator_id, series, ref_area, time_period, sex, obs_value "
            "FROM marts.indicators WHERE counterpart_area = '_T' USING SAMPLE 10 ROWS"
        ).df()
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": sum(counts.values()),
            "dagster/column_schema": table_schema(list(INDICATOR_COLUMNS.items())),
            "rows_by_indicator": counts,
            "catalogue_size": len(catalogue()),
            "preview": dg.MetadataValue.md(preview.to_markdown(index=False)),
        },
        check_results=[
            check_result(combined(outcomes), "expectations"),
            *[check_result(o) for o in reconciled],
        ],
    )


@dg.asset(
    code_version=CODE_VERSION,
    automation_condition=WHEN_STALE,
    key=["marts", "baselines"],
    group_name="marts",
    kinds={"duckdb"},
    deps=[CONFIGURATION_FILES, indicators, dg.AssetKey(["core", "projects"])],
    description="Impact-assessment baselines for every registered request (EMP_BASELINE_REQUESTS) "
    "and every project with a logframe report: value at the latest period on or before the start "
    "per indicator and area (or why there is none), a difference-in-differences panel, and the "
    "logframe's own baselines reconciled with the profile.",
)
def baselines_asset(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        requests = requests_in_warehouse(
            con, Path(warehouse.baseline_requests_dir), {i.id for i in catalogue()}
        )
        counts = build_baselines(con, requests)
        status = con.execute(
            "SELECT status, count(*) FROM marts.baselines GROUP BY 1 ORDER BY 1"
        ).fetchall()
        flagged = con.execute(
            "SELECT count(*) FROM marts.baseline_reconciliation WHERE status <> 'within_tolerance'"
        ).fetchall()[0][0]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": counts["baselines"],
            "requests": [r.id for r in requests],
            "rows": counts,
            "baseline_status": dict(status),
            "reconciliation_flagged": flagged,
        }
    )


@dg.asset(
    code_version=CODE_VERSION,
    automation_condition=WHEN_STALE,
    key=["snapshots", "profile"],
    group_name="snapshots",
    kinds={"parquet"},
    deps=[indicators, baselines_asset],
    partitions_def=COUNTRIES,
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="An immutable profile snapshot per country: snapshots/<ISO3>/<version>/ with "
    "indicators.parquet and manifest.json, written aside and renamed into place.",
)
def profile_snapshot(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    published, unchanged = {}, []
    rows = 0
    tags = context.run.tags
    # one refresh, one version: every country this run publishes shares the refresh's id
    version = tags.get(VERSION_TAG) or refresh_version(datetime.now(UTC))
    force = tags.get(FORCE_TAG) == "true"
    # read-only connections: other readers may run beside, and many countries are published
    # by one worker process per core
    outcomes = publish_countries(
        Path(warehouse.database),
        list(context.partition_keys),
        Path(warehouse.snapshots_dir),
        warehouse.specs,
        warehouse.disclosure,
        version,
        force,
        Path(warehouse.specs_dir),
        wait_seconds=warehouse.lock_wait_seconds,
    )
    for country, outcome in zip(context.partition_keys, outcomes, strict=True):
        if outcome.status == "no_data":
            context.log.warning(f"{country}: no indicator has a value; no snapshot written")
        elif outcome.status == "unchanged":
            unchanged.append(country)
            context.log.info(
                f"{country}: content unchanged since {Path(outcome.path).name}; no new version"
            )
        else:
            published[country] = outcome.path
            rows += outcome.rows
            context.log.info(f"{country}: published {outcome.path}")
    columns = [*INDICATOR_COLUMNS.items(), ("value_key", "VARCHAR"), ("synthetic", "BOOLEAN")]
    return dg.MaterializeResult(
        metadata={
            "dagster/row_count": rows,
            "dagster/column_schema": table_schema(columns),
            "snapshots": published,
            "version": version,
            "unchanged": unchanged,
        }
    )


@dg.asset(
    code_version=CODE_VERSION,
    automation_condition=WHEN_STALE,
    key=["reports", "profile"],
    group_name="reports",
    kinds={"html"},
    deps=[CONFIGURATION_FILES, profile_snapshot],
    partitions_def=COUNTRIES,
    backfill_policy=dg.BackfillPolicy.single_run(),
    description="The Extended Migration Profile of each country as one self-contained HTML file "
    "(key data, Part A trends, Part B impact, Part D data gaps, charts and sources), built from "
    "its latest snapshot, in each language the country's report is offered in: "
    "EMP_HOME/reports/profile/<ISO3>/<version>.<lang>.html, latest.<lang>.html, and "
    "latest.html in the country's default language.",
)
def profile_report(
    context: AssetExecutionContext, warehouse: WarehouseResource
) -> dg.MaterializeResult:
    written, kept, failed = {}, [], {}
    configuration = context.run.tags.get(CONFIGURATION_TAG)
    built = build_country_reports(
        list(context.partition_keys),
        Path(warehouse.snapshots_dir),
        warehouse.reports,
        configuration,
    )
    for country, report in built.items():
        if isinstance(report, str):  # one country's report never stops the others'
            failed[country] = report
            context.log.error(f"{country}: profile report not built ({report})")
            continue
        if report.status == "unchanged":
            kept.append(country)
            context.log.info(f"{country}: profile report already built from its snapshot")
        else:
            written[country] = report.path
            context.log.info(f"{country}: profile report in {', '.join(report.languages)}")
    if failed:
        raise dg.Failure(
            description="profile report not built for "
            + "; ".join(f"{c}: {why}" for c, why in failed.items()),
            metadata={"reports": written, "unchanged": kept},
        )
    return dg.MaterializeResult(metadata={"reports": written, "unchanged": kept})


@dg.asset(
    code_version=CODE_VERSION,
    automation_condition=WHEN_STALE,
    key=["reports", "site"],
    group_name="reports",
    kinds={"html"},
    deps=[profile_report],
    description="The public site of every profile (EMP_HOME/site/index.html): the countries, a "
    "page per indicator with every country side by side, local profiles of regions and "
    "provinces, reporting and disaggregation status, search and downloads, in every profile "
    "language; built from the published editions alone, opens from file:// or any web server.",
)
def public_site(warehouse: WarehouseResource) -> dg.MaterializeResult:
    result = build_site(
        Path(warehouse.snapshots_dir),
        Path(warehouse.snapshots_dir).parent / "site",
        warehouse.reports,
    )
    return dg.MaterializeResult(
        metadata={
            "status": result.status,
            "index": str(result.path / "index.html"),
            "pages": result.pages,
            "pdfs_printed": result.pdfs,
            "seconds": round(result.seconds, 1),
        }
    )


@dg.asset(
    code_version=CODE_VERSION,
    automation_condition=WHEN_STALE,
    key=["core", "admin_areas"],
    group_name="core",
    kinds={"duckdb"},
    description="Sub-national areas with validity dates: ISO 3166-2 regions, provinces and "
    "districts (pycountry), Morocco's 16 former regions (codes reused in 2015 for other areas) "
    "with their successors, and Moldova's development regions (statistics office).",
)
def core_admin_areas(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        rows = refresh_admin_areas(con)
    return dg.MaterializeResult(metadata={"dagster/row_count": rows})


@dg.asset(
    code_version=CODE_VERSION,
    automation_condition=WHEN_STALE,
    key=["core", "projects"],
    group_name="core",
    kinds={"duckdb"},
    deps=[INTERNATIONAL_FILES, national_submissions, core_admin_areas],
    description="The JMDI project registry, and the logframe reports linked to it: indicators "
    "(matched to catalogue ids), baseline, target and actual values, intervention areas "
    "resolved at the report date.",
)
def core_projects(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        counts = rebuild_projects(con, {i.id for i in catalogue()})
        linked = con.execute(
            "SELECT count(*) FROM core.project_indicators WHERE linked_to_catalogue"
        ).fetchone()[0]
    return dg.MaterializeResult(
        metadata={"dagster/row_count": counts["values"], **counts, "linked_indicators": linked}
    )


@dg.asset(
    code_version=CODE_VERSION,
    automation_condition=WHEN_STALE,
    key=["reports", "validation"],
    group_name="reports",
    kinds={"html"},
    deps=[indicators, profile_snapshot],
    description="One-page validation report (HTML and JSON) for the working group: per source "
    "and batch, the checks run, passed, warned and failed, with the failing rows and values; "
    "the core, indicator and reconciliation checks. Written under EMP_HOME/reports/validation/.",
)
def validation_report_asset(warehouse: WarehouseResource) -> dg.MaterializeResult:
    with warehouse.connect() as con:
        report = validation_report(con)
    html, data = write_report(report, warehouse.reports / "validation")
    return dg.MaterializeResult(
        metadata={
            "html": str(html),
            "json": str(data),
            **{f"checks_{k}": v for k, v in report["counts"].items()},
            "held_back": [b["batch_id"] for b in report["held_back"]],
        }
    )


ALL_ASSETS = [
    *INPUT_ASSETS,
    *RAW_ASSETS,
    national_submissions,
    core_areas,
    core_admin_areas,
    core_projects,
    census_microdata,
    core_census_indicators,
    core_observations,
    indicators,
    baselines_asset,
    profile_snapshot,
    profile_report,
    public_site,
    validation_report_asset,
]
