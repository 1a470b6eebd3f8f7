"""`emp refresh`: every asset in-process, with progress as steps finish and a closing summary."""

from __future__ import annotations

import json
import logging
import os
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from pathlib import Path

import dagster as dg

from pipelines.assets import ALL_ASSETS, COUNTRIES, FORCE_TAG, VERSION_TAG, profile_snapshot
from pipelines.resources import WarehouseResource
from warehouse.db import connect, refresh_lock
from warehouse.settings import Settings, SettingsError
from warehouse.snapshots import list_snapshots, refresh_version

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
    defs = dg.Definitions(
        assets=ALL_ASSETS,
        jobs=[
            dg.define_asset_job("emp_refresh", selection=dg.AssetSelection.all()),
            dg.define_asset_job("emp_snapshot", selection=[profile_snapshot]),
        ],
        resources={"warehouse": WarehouseResource.from_settings(settings)},
        loggers={"progress": _progress_logger(on_step or (lambda *_: None))},
        executor=dg.in_process_executor,
    )
    run_config = {"loggers": {"progress": {}}}
    started = time.monotonic()
    with refresh_lock(settings.database, settings.lock_wait_seconds):
        # Another process (not a refresh) may hold the DuckDB file: say so now, in our words,
        # rather than fail every step with DuckDB's lock error.
        with connect(settings.database, wait_seconds=settings.lock_wait_seconds):
            pass
        # under the lock: one refresh at a time opens the shared Dagster instance (SQLite), and
        # what counts as "before" is what the previous refresh left
        instance = dg.DagsterInstance.get() if os.environ.get("DAGSTER_HOME") else None
        before = {
            c: {s["version"] for s in list_snapshots(settings.snapshots, c)} for c in countries
        }
        started_at = datetime.now(UTC).replace(tzinfo=None)
        # every snapshot this refresh publishes, whatever the run, gets one version id
        shared = {VERSION_TAG: refresh_version(datetime.now(UTC)), FORCE_TAG: str(force).lower()}
        first, *rest = countries
        everything = list(countries) == known
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
    done = summary(
        settings, countries, results, before, time.monotonic() - started, _unchanged(results)
    )
    return {**done, "new_releases": picked_up}


def new_releases(settings: Settings, since: datetime) -> list[dict]:
    """The publishers' releases loaded for the first time since `since`."""
    if not Path(settings.database).exists():
        return []
    with connect(settings.database, wait_seconds=settings.lock_wait_seconds) as con:
        rows = con.execute(
            "SELECT r.source_id, r.vintage, r.file_path FROM meta.releases r "
            "JOIN meta.batches b USING (batch_id) WHERE b.loaded_at >= ? ORDER BY 1, 2",
            [since],
        ).fetchall()
    return [{"series": s, "vintage": v or "", "file": f} for s, v, f in rows]


def _failures(results) -> list[str]:
    failures = []
    for result in results:
        for event in result.all_events:
            if event.is_step_failure:
                error = event.event_specific_data.error
                while error.cause is not None:  # the user-code error, not Dagster's wrapper
                    error = error.cause
                failures.append(f"{event.step_key}: {error.message.strip()}")
    return failures


def summary(
    settings: Settings,
    countries,
    results,
    before: dict,
    seconds: float,
    unchanged: Sequence[str] = (),
) -> dict:
    """Countries, indicators computed, gaps, warnings and the snapshot versions written; a
    country whose content did not change keeps its latest version (`unchanged`)."""
    written, warnings = {}, []
    for country in countries:
        published = list_snapshots(settings.snapshots, country)
        new = [s for s in published if s["version"] not in before.get(country, set())]
        if not new and country in unchanged and published:
            new = published[-1:]
        if not new:
            continue
        snap = new[-1]
        manifest = json.loads((Path(snap["path"]) / "manifest.json").read_text(encoding="utf-8"))
        validation = manifest.get("validation", {})
        by_indicator = manifest["row_counts"].get("by_indicator", {})
        checks = validation.get("checks", [])
        warned = [c["name"] for c in checks if not c["success"] and c["severity"] == "warn"]
        failed = [c["name"] for c in checks if not c["success"] and c["severity"] == "error"]
        warnings += [f"{country}: check {name} warned" for name in warned]
        written[country] = {
            "version": snap["version"],
            "path": snap["path"],
            "rows": snap["rows"],
            "indicators": sum(1 for n in by_indicator.values() if n),
            "gaps": [g["indicator_id"] for g in validation.get("gaps", [])],
            "checks_warned": warned,
            "checks_failed": failed,
            "held_back": validation.get("held_back", []),
            "unchanged": snap["version"] in before.get(country, set()),
            "changes": manifest.get("changes", {}),
        }
    failures = _failures(results)
    failures += [
        f"{c}: check {name} failed" for c, s in written.items() for name in s["checks_failed"]
    ]
    missing = [c for c in countries if c not in written]
    failures += [
        f"{c}: no snapshot written (nothing in the data for this country, or a step failed)"
        for c in missing
    ]
    held = {(h["item"], h["reason"]): h for snap in written.values() for h in snap["held_back"]}
    return {
        "success": all(r.success for r in results) and not failures,
        "held_back": list(held.values()),
        "seconds": round(seconds, 1),
        "database": str(settings.database),
        "countries": list(countries),
        "snapshots": written,
        "unchanged": [c for c, snap in written.items() if snap["unchanged"]],
        "warnings": warnings,
        "failures": failures,
    }
