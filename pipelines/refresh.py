"""`emp refresh`: every asset in-process, with progress as steps finish and a closing summary."""

from __future__ import annotations

import logging
import os
import time
import warnings
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from pipelines.assets import (
    ALL_ASSETS,
    CONFIGURATION_TAG,
    COUNTRIES,
    FORCE_TAG,
    VERSION_TAG,
    profile_report,
    profile_snapshot,
    public_site,
)
from pipelines.inputs import stale_selection
from pipelines.refresh_summary import new_releases, plan_summary, summary, versions
from pipelines.resources import WarehouseResource
from publish.snapshots import refresh_version
from sources.inbox import PUBLIC_FOLDER, files_in
from sources.publishers.files import release_files
from sources.specs import spec_set
from warehouse.db import connect, refresh_lock
from warehouse.fingerprints import (
    forget_refresh,
    plan_refresh,
    record_refresh,
    take_fingerprint,
)
from warehouse.settings import Settings, SettingsError

# A refresh that selects part of the graph mixes partitioned assets (one backfill policy) and
# unpartitioned ones (none); Dagster warns about it on every such refresh, to no one's use.
warnings.filterwarnings("ignore", message="Asset job .* varying BackfillPolicies")

STEP_EVENTS = ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED")
#: callback(event type, step key) as each step starts and ends
StepCallback = Callable[[str, str], None]


class _StepHandler(logging.Handler):
    def __init__(self, callback: StepCallback) -> None:
        super().__init__(logging.DEBUG)
        self.callback = callback

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is not None and event.event_type_value in STEP_EVENTS:
            self.callback(event.event_type_value, event.step_key or "")


def _progress_logger(callback: StepCallback) -> dg.LoggerDefinition:
    def build(_init_context) -> logging.Logger:
        logger = logging.Logger("emp-refresh", level=logging.DEBUG)
        logger.addHandler(_StepHandler(callback))
        return logger

    return dg.LoggerDefinition(build, description="reports each step to `emp refresh`")


def _tags(start: str, end: str) -> dict[str, str]:
    return {
        "dagster/asset_partition_range_start": start,
        "dagster/asset_partition_range_end": end,
    }


def _unchanged(results) -> list[str]:
    """The countries whose published content did not change (no new version written)."""
    found: list[str] = []
    for result in results:
        for event in result.all_events:
            if not event.is_step_materialization:
                continue
            metadata = event.event_specific_data.materialization.metadata
            listed = metadata.get("unchanged")
            if listed is not None:
                found += list(getattr(listed, "value", listed) or [])
    return found


def step_count() -> int:
    return len(ALL_ASSETS)


def _definitions(settings: Settings, selection, on_step: StepCallback | None) -> dg.Definitions:
    return dg.Definitions(
        assets=ALL_ASSETS,
        jobs=[
            dg.define_asset_job("emp_refresh", selection=selection),
            dg.define_asset_job(
                "emp_snapshot", selection=[profile_snapshot, profile_report, public_site]
            ),
        ],
        resources={"warehouse": WarehouseResource.from_settings(settings)},
        loggers={"progress": _progress_logger(on_step or (lambda *_: None))},
        executor=dg.in_process_executor,
    )


def run_refresh(
    settings: Settings,
    countries: Sequence[str],
    on_step: StepCallback | None = None,
    force: bool = False,
) -> dict:
    """Materialise every asset in-process: all sources, core, indicators, baselines, then one
    snapshot per country. Raises WarehouseBusyError if another refresh holds the warehouse."""
    known = COUNTRIES.get_partition_keys()
    unknown = [c for c in countries if c not in known]
    if unknown:
        raise SettingsError(
            f"{', '.join(unknown)} not among the profile countries {', '.join(known)} "
            "(set EMP_COUNTRIES)"
        )
    run_config = {"loggers": {"progress": {}}}
    started = time.monotonic()
    specs = spec_set(settings.specs).specs
    with refresh_lock(settings.database, settings.lock_wait_seconds):
        # Another process (not a refresh) may hold the DuckDB file: say so now, in our words,
        # rather than fail every step with DuckDB's lock error.
        with connect(settings.database, wait_seconds=settings.lock_wait_seconds):
            pass
        # under the lock: what counts as "before" is what the previous refresh left
        plan = plan_refresh(settings, list(countries), specs, force)
        before = versions(settings, countries)
        if plan.nothing_changed:
            done = summary(settings, countries, [], before, time.monotonic() - started, countries)
            return {**done, **plan_summary(plan), "new_releases": []}
        defs = _definitions(settings, stale_selection(plan), on_step)
        # one refresh at a time opens the shared Dagster instance (SQLite)
        instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else None
        started_at = datetime.now(UTC).replace(tzinfo=None)
        # every snapshot this refresh publishes, whatever the run, gets one version id
        shared = {
            VERSION_TAG: refresh_version(datetime.now(UTC)),
            FORCE_TAG: str(force).lower(),
            CONFIGURATION_TAG: plan.fingerprint.configuration_digest,
        }
        publish = plan.publish or list(countries[:1])  # the shared steps still run once
        first, *rest = publish
        everything = publish == known
        results = [
            defs.resolve_job_def("emp_refresh").execute_in_process(
                run_config=run_config,
                instance=instance,
                tags={**_tags(first, known[-1] if everything else first), **shared},
                raise_on_error=False,
            )
        ]
        if not everything:
            for country in rest:
                results.append(
                    defs.resolve_job_def("emp_snapshot").execute_in_process(
                        run_config=run_config,
                        instance=instance,
                        partition_key=country,
                        tags=shared,
                        raise_on_error=False,
                    )
                )
        picked_up = new_releases(settings, started_at)
        if instance is not None:
            instance.dispose()  # its SQLite files are free for the next refresh
        unchanged = _unchanged(results) + [c for c in countries if c not in publish]
        done = summary(settings, countries, results, before, time.monotonic() - started, unchanged)
        _remember(settings, list(countries), specs, plan, done)
    return {**done, **plan_summary(plan), "new_releases": picked_up}


def _remember(settings: Settings, countries: list[str], specs: dict, plan, done: dict) -> None:
    """Record what a complete refresh of every profile read, for the next to compare; only
    when nothing waits in the inbox and no input changed while it ran (census samples it
    generated aside)."""
    if countries != list(settings.countries):
        return  # a refresh of some countries leaves the record of the last complete one
    if not done["success"]:
        forget_refresh(settings)
        return
    after = take_fingerprint(settings, specs, plan.fingerprint.files)
    moved = [
        g
        for g in set(after.groups) | set(plan.fingerprint.groups)
        if not g.startswith("census/") and after.groups.get(g) != plan.fingerprint.groups.get(g)
    ]
    waiting = any(path.is_file() for _, path in files_in(Path(settings.inbox)))
    waiting |= bool(release_files(Path(settings.inbox) / PUBLIC_FOLDER))
    if moved or waiting:
        forget_refresh(settings)
        return
    record_refresh(settings, after, {"snapshots": done["snapshots"]})
