"""Dagster entry point: `dagster dev -w workspace.yaml` serves these definitions."""

from __future__ import annotations

import json

import dagster as dg

from pipelines.assets import ALL_ASSETS, COUNTRIES
from pipelines.resources import WarehouseResource
from pipelines.sensors import inbox_job, inbox_sensor
from warehouse.settings import Settings

refresh_job = dg.define_asset_job(
    "refresh_profiles",
    selection=dg.AssetSelection.all(),
    description="Load every source, rebuild core and indicators, publish a snapshot per country.",
)


#: Working groups refresh the profile each quarter (first day of January, April, July, October,
#: 06:00 UTC), every country in one run. Stopped until switched on in the Dagster UI.
QUARTERLY_CRON = "0 6 1 1,4,7,10 *"


@dg.schedule(
    job=refresh_job,
    cron_schedule=QUARTERLY_CRON,
    execution_timezone="UTC",
    default_status=dg.DefaultScheduleStatus.STOPPED,
    description="Quarterly profile refresh: every source, every country, new snapshots.",
)
def quarterly_refresh(context: dg.ScheduleEvaluationContext) -> dg.RunRequest:
    keys = COUNTRIES.get_partition_keys()
    return dg.RunRequest(
        run_key=f"quarterly-{context.scheduled_execution_time:%Y-%m-%d}",
        tags={
            "dagster/asset_partition_range_start": keys[0],
            "dagster/asset_partition_range_end": keys[-1],
        },
    )


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


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    settings = settings or Settings.from_env()
    return dg.Definitions(
        assets=ALL_ASSETS,
        jobs=[refresh_job, inbox_job],
        sensors=[inbox_sensor, releases_sensor],
        schedules=[quarterly_refresh],
        resources={"warehouse": WarehouseResource.from_settings(settings)},
        executor=dg.in_process_executor,
    )


defs = build_definitions()
