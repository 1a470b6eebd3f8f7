"""The inbox sensor: a file dropped in `inbox/<MINISTRY>/` starts its ingestion and the
refresh of the country it belongs to."""

from __future__ import annotations

import json
from collections import defaultdict

import dagster as dg

from pipelines.assets import (
    COUNTRIES,
    baselines_asset,
    core_admin_areas,
    core_areas,
    core_observations,
    core_projects,
    indicators,
    national_submissions,
    profile_report,
    profile_snapshot,
)
from pipelines.resources import WarehouseResource
from sources.inbox import files_in, match_spec

inbox_job = dg.define_asset_job(
    "ingest_inbox",
    selection=dg.AssetSelection.assets(
        national_submissions,
        core_areas,
        core_admin_areas,
        core_projects,
        core_observations,
        indicators,
        baselines_asset,
        profile_snapshot,
        profile_report,
    ),
    partitions_def=COUNTRIES,
    description="Load the files waiting in the inbox, rebuild core, indicators and baselines, "
    "and publish a new snapshot and profile report of the country the files belong to.",
)


# Off until a working group switches it on in the UI (Automation > Sensors): files dropped in the
# inbox then wait for the next `emp refresh`.
@dg.sensor(
    job=inbox_job, minimum_interval_seconds=30, default_status=dg.DefaultSensorStatus.STOPPED
)
def inbox_sensor(context: dg.SensorEvaluationContext, warehouse: WarehouseResource):
    """One run per country with new files; a file that matches no spec gets a run that only
    moves it to rejected/ with the reason."""
    seen = set(json.loads(context.cursor)) if context.cursor else set()
    specs = warehouse.specs
    present, new = set(), defaultdict(list)
    for ministry, path in files_in(warehouse.inbox):
        stat = path.lstat()  # a link is refused by the run, never followed here
        key = f"{ministry}/{path.name}:{stat.st_size}:{stat.st_mtime_ns}"
        present.add(key)
        if key in seen:
            continue
        spec = match_spec(ministry, path, specs).spec
        new[spec.country if spec else None].append(key)
    context.update_cursor(json.dumps(sorted(present)))
    if not new:
        return dg.SkipReason(f"no new file in {warehouse.inbox}")
    partitions = set(COUNTRIES.get_partition_keys())
    requests = []
    for country, keys in sorted(new.items(), key=lambda item: str(item[0])):
        if country in partitions:
            requests.append(dg.RunRequest(run_key="|".join(keys), partition_key=country))
        elif country == "*":  # a file covering many reporting countries: every profile
            every = COUNTRIES.get_partition_keys()
            requests.append(
                dg.RunRequest(
                    run_key="|".join(keys),
                    tags={
                        "dagster/asset_partition_range_start": every[0],
                        "dagster/asset_partition_range_end": every[-1],
                    },
                )
            )
        else:  # project reports, and files no spec matches (moved to rejected/)
            requests.append(
                dg.RunRequest(
                    run_key="|".join(keys),
                    asset_selection=[
                        national_submissions.key,
                        core_admin_areas.key,
                        core_projects.key,
                    ],
                )
            )
    return requests
