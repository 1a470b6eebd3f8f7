"""Countries published side by side: one step per country, run at once by Dagster's multiprocess
executor. Each step reads the warehouse read-only (DuckDB lets any number of processes read a
file no one writes), writes its country's snapshot and report, and records them as
materialisations of the `snapshots/profile` and `reports/profile` partitions.

    DAGSTER_HOME="$(emp dagster-home)" dagster job execute -m pipelines.definitions \
        -j publish_countries --tags '{"emp/countries": "GEO,MAR"}'
"""

from datetime import UTC, datetime
from pathlib import Path

import dagster as dg
from dagster import OpExecutionContext

from pipelines.assets import COUNTRIES, FORCE_TAG, VERSION_TAG
from pipelines.resources import WarehouseResource
from publish.country_profiles import build_country_report, publish_country
from publish.snapshots import refresh_version

#: The countries a run publishes, comma-separated (default: every profile country).
COUNTRIES_TAG = "emp/countries"


@dg.op(out=dg.DynamicOut(dict), description="The countries to publish, one step each.")
def countries_to_publish(context: OpExecutionContext):
    tags = context.run.tags
    wanted = [c.strip() for c in tags.get(COUNTRIES_TAG, "").split(",") if c.strip()]
    known = COUNTRIES.get_partition_keys()
    unknown = sorted(set(wanted) - set(known))
    if unknown:
        raise ValueError(f"{COUNTRIES_TAG}: not profile countries: {', '.join(unknown)}")
    # one run, one version: every country's step publishes under the same id
    version = tags.get(VERSION_TAG) or refresh_version(datetime.now(UTC))
    for country in wanted or known:
        yield dg.DynamicOutput(
            {"country": country, "version": version, "force": tags.get(FORCE_TAG) == "true"},
            mapping_key=country,
        )


@dg.op(description="One country's snapshot (warehouse read-only) and its profile report.")
def publish_one_country(context: OpExecutionContext, warehouse: WarehouseResource, job: dict):
    country = job["country"]
    snapshots = Path(warehouse.snapshots_dir)
    with warehouse.connect(read_only=True) as con:
        snapshot = publish_country(
            con,
            country,
            snapshots,
            warehouse.specs,
            warehouse.disclosure,
            job["version"],
            job["force"],
            Path(warehouse.specs_dir),
        )
    if snapshot.status == "published":
        yield dg.AssetMaterialization(
            ["snapshots", "profile"],
            partition=country,
            metadata={"path": snapshot.path, "dagster/row_count": snapshot.rows},
        )
    report = None
    if snapshot.status != "no_data":
        report = build_country_report(country, snapshots, warehouse.reports, None)
        if report.status == "written":
            yield dg.AssetMaterialization(
                ["reports", "profile"], partition=country, metadata={"path": report.path}
            )
    context.log.info(f"{country}: snapshot {snapshot.status}")
    yield dg.Output(
        {
            "country": country,
            "snapshot": snapshot.status,
            "path": snapshot.path,
            "report": report.status if report else None,
        }
    )


@dg.op(description="What each country's step did.")
def publishing_summary(context: OpExecutionContext, results: list[dict]) -> dict:
    done = {r["country"]: r for r in results}
    context.log.info(
        "; ".join(f"{c}: {r['snapshot']}, report {r['report']}" for c, r in sorted(done.items()))
    )
    return done


@dg.job(
    executor_def=dg.multiprocess_executor,
    tags={"dagster/max_retries": 0},
    description="Publish each country's snapshot and report in a step of its own, side by side "
    "(multiprocess executor), from the warehouse as the last refresh left it.",
)
def publish_countries():
    publishing_summary(countries_to_publish().map(publish_one_country).collect())
