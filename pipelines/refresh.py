"""`emp refresh`: every asset in-process, with progress as steps finish and a closing summary."""

from __future__ import annotations

import os
import time
import warnings
from collections.abc import Sequence
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from pipelines.assets import (
    ALL_ASSETS,
    CONFIGURATION_TAG,
    COUNTRIES,
    FORCE_TAG,
    VERSION_TAG,
)
from pipelines.inputs import stale_selection
from pipelines.jobs import (
    PUBLISH_JOB,
    REFRESH_JOB,
    StepCallback,
    loggers,
    publish_job,
    refresh_job,
    workspace_origin,
)
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

#: the command line's runs report each step through the progress logger
RUN_CONFIG = {"loggers": {"progress": {}}}

# A refresh that selects part of the graph mixes partitioned assets (one backfill policy) and
# unpartitioned ones (none); Dagster warns about it on every such refresh, to no one's use.
warnings.filterwarnings("ignore", message="Asset job .* varying BackfillPolicies")


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


def _definitions(settings: Settings, on_step: StepCallback | None) -> dg.Definitions:
    """The workspace's jobs (same names, same assets), with the progress logger reporting to
    the command line."""
    return dg.Definitions(
        assets=ALL_ASSETS,
        jobs=[refresh_job, publish_job],
        resources={"warehouse": WarehouseResource.from_settings(settings)},
        loggers=loggers(on_step),
        executor=dg.in_process_executor,
    )


def _execute(
    job: dg.JobDefinition,
    instance: dg.DagsterInstance | None,
    tags: dict[str, str],
    selection: set[dg.AssetKey] | None = None,
    partition_key: str | None = None,
):
    """Run `job` here, in this process. With the shared instance, the run is recorded as the
    workspace's job (its code location and repository), so the UI lists it under that job and
    can re-execute it; without one (tests, no DAGSTER_HOME), an ephemeral instance."""
    if partition_key is not None:
        tags = {**tags, "dagster/partition": partition_key}
    if instance is None:
        return job.execute_in_process(
            run_config=RUN_CONFIG,
            tags=tags,
            asset_selection=sorted(selection, key=str) if selection else None,
            raise_on_error=False,
        )
    from dagster._core.definitions.job_base import InMemoryJob
    from dagster._core.execution.api import execute_run

    run = instance.create_run_for_job(
        job_def=job,
        run_config=RUN_CONFIG,
        tags={**job.run_tags, **tags},
        asset_selection=frozenset(selection) if selection else None,
        remote_job_origin=workspace_origin(job.name),
    )
    return execute_run(InMemoryJob(job), run, instance, raise_on_error=False)


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
        defs = _definitions(settings, on_step)
        graph = defs.resolve_asset_graph()
        selection = stale_selection(plan).resolve(graph)
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
        refresh = defs.resolve_job_def(REFRESH_JOB)
        everything_selected = selection == set(graph.get_all_asset_keys())
        results = [
            _execute(
                refresh,
                instance,
                {**_tags(first, known[-1] if everything else first), **shared},
                None if everything_selected else selection,
            )
        ]
        if not everything:
            for country in rest:
                results.append(
                    _execute(defs.resolve_job_def(PUBLISH_JOB), instance, shared, None, country)
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
