"""Dagster entry point: `dagster dev -w workspace.yaml` serves these definitions."""

from __future__ import annotations

import json

import dagster as dg

from pipelines.assets import ALL_ASSETS, COUNTRIES
from pipelines.country_jobs import publish_countries
from pipelines.inputs import stale_selection
from pipelines.jobs import loggers, publish_job, refresh_job
from pipelines.resources import WarehouseResource
from pipelines.sensors import inbox_job, inbox_sensor
from warehouse.fingerprints import Fingerprint, plan_refresh, record_refresh
from warehouse.settings import Settings

#: the input digests a scheduled run was planned on, recorded when it succeeds
FINGERPRINT_TAG = "emp/fingerprint"


#: Working groups refresh the profile each quarter (first day of January, April, July, October,
#: 06:00 UTC), every country in one run. Stopped until switched on in the Dagster UI.
QUARTERLY_CRON = "0 6 1 1,4,7,10 *"


@dg.schedule(
    job=refresh_job,
    cron_schedule=QUARTERLY_CRON,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Quarterly profile refresh of what changed since the last complete refresh: "
    "the assets downstream of the inputs with a new digest, for the countries they concern; "
    "skipped when nothing changed.",
)
def quarterly_refresh(context: dg.ScheduleEvaluationContext, warehouse: WarehouseResource):
    countries = COUNTRIES.get_partition_keys()
    plan = plan_refresh(warehouse.settings, countries, warehouse.specs)
    if plan.nothing_changed:
        return dg.SkipReason("nothing changed since the last complete refresh")
    return stale_run_request(plan, f"quarterly-{context.scheduled_execution_time:%Y-%m-%d}")


def stale_run_request(plan, run_key: str) -> dg.RunRequest:
    """A run of the assets the plan's changes make stale, over the countries they concern (from
    the first to the last in partition order), carrying the fingerprint to record on success."""
    countries = COUNTRIES.get_partition_keys()
    publish = [c for c in countries if c in (plan.publish or countries[:1])]
    selection = stale_selection(plan).resolve(defs.resolve_asset_graph())
    return dg.RunRequest(
        run_key=run_key,
        asset_selection=sorted(selection, key=lambda k: k.to_user_string()),
        tags={
            "dagster/asset_partition_range_start": publish[0],
            "dagster/asset_partition_range_end": publish[-1],
            FINGERPRINT_TAG: json.dumps(plan.fingerprint.groups),
        },
    )


@dg.run_status_sensor(
    run_status=dg.DagsterRunStatus.SUCCESS,
    monitored_jobs=[refresh_job],
    default_status=dg.DefaultSensorStatus.RUNNING,
    description="Records what a successful scheduled refresh of every profile read, so that the "
    "next one redoes only what changed after it.",
)
def record_scheduled_refresh(context: dg.RunStatusSensorContext):
    from pipelines.refresh_summary import summary, versions

    run = context.dagster_run
    groups = run.tags.get(FINGERPRINT_TAG)
    if not groups:
        return dg.SkipReason("not a scheduled refresh")
    settings = Settings.from_env()
    countries = COUNTRIES.get_partition_keys()
    done = summary(settings, countries, [], versions(settings, countries), 0.0, countries)
    record_refresh(settings, Fingerprint(json.loads(groups), {}), {"snapshots": done["snapshots"]})


@dg.sensor(job=refresh_job, minimum_interval_seconds=60)
def releases_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    """A publisher's release dropped in `inbox/PUBLIC/` concerns every profile: one refresh of
    every country for each set of new files."""
    from sources.inbox import PUBLIC_FOLDER
    from sources.publishers.files import release_files

    seen = set(json.loads(context.cursor)) if context.cursor else set()
    present = set()
    for path in release_files(warehouse.inbox / PUBLIC_FOLDER):
        stat = path.lstat()
        present.add(f"{path.name}:{stat.st_size}:{stat.st_mtime_ns}")
    context.update_cursor(json.dumps(sorted(present)))
    new = sorted(present - seen)
    if not new:
        return dg.SkipReason(f"no new release in {warehouse.inbox / PUBLIC_FOLDER}")
    keys = COUNTRIES.get_partition_keys()
    return dg.RunRequest(
        run_key="releases|" + "|".join(new),
        tags={
            "dagster/asset_partition_range_start": keys[0],
            "dagster/asset_partition_range_end": keys[-1],
        },
    )


#: Declarative automation (each asset's automation condition: inputs observed every 15 minutes,
#: assets materialised when an input they rest on has a new data version). Off until a working
#: group switches it on in the UI (Automation > Sensors).
automation_sensor = dg.AutomationConditionSensorDefinition(
    "emp_automation",
    target=dg.AssetSelection.all(include_sources=True),
    default_status=dg.DefaultSensorStatus.STOPPED,
    minimum_interval_seconds=60,
)


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    settings = settings or Settings.from_env()
    return dg.Definitions(
        assets=ALL_ASSETS,
        jobs=[refresh_job, publish_job, inbox_job, publish_countries],
        sensors=[inbox_sensor, releases_sensor, record_scheduled_refresh, automation_sensor],
        schedules=[quarterly_refresh],
        resources={"warehouse": WarehouseResource.from_settings(settings)},
        loggers=loggers(),
        executor=dg.in_process_executor,
    )


defs = build_definitions()


def publish_countries_job() -> dg.JobDefinition:
    """The per-country publishing job with its resources, for `dg.reconstructable` (the
    multiprocess executor rebuilds it in each step's process)."""
    return defs.get_job_def("publish_countries")
