"""Dagster entry point: `dagster dev -w workspace.yaml` serves these definitions."""

from __future__ import annotations

import dagster as dg

from pipelines.assets import ALL_ASSETS
from pipelines.resources import WarehouseResource
from pipelines.sensors import inbox_job, inbox_sensor
from warehouse.settings import Settings

refresh_job = dg.define_asset_job(
    "refresh_profiles",
    selection=dg.AssetSelection.all(),
    description="Load every source, rebuild core and indicators, publish a snapshot per country.",
)


def build_definitions(settings: Settings | None = None) -> dg.Definitions:
    settings = settings or Settings.from_env()
    return dg.Definitions(
        assets=ALL_ASSETS,
        jobs=[refresh_job, inbox_job],
        sensors=[inbox_sensor],
        resources={"warehouse": WarehouseResource.from_settings(settings)},
        executor=dg.in_process_executor,
    )


defs = build_definitions()
