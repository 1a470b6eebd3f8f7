"""The closing summary of a refresh, read from what it published (no Dagster import: a
refresh with nothing to do answers without starting the pipeline)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path

from publish.snapshot_index import list_snapshots
from sources.i18n import N_
from warehouse.fingerprints import RefreshPlan
from warehouse.settings import Settings


def plan_summary(plan: RefreshPlan) -> dict:
    """What the refresh found changed and what it skipped, for the closing summary."""
    return {
        "changed_inputs": plan.changed if plan.previous is not None else [],
        "skipped": plan.skipped,
        "nothing_changed": plan.nothing_changed,
    }


def versions(settings: Settings, countries: Sequence[str]) -> dict[str, set[str]]:
    """The snapshot versions each country has now."""
    return {c: {s["version"] for s in list_snapshots(settings.snapshots, c)} for c in countries}


def new_releases(settings: Settings, since: datetime) -> list[dict]:
    """The publishers' releases loaded for the first time since `since` and used: a release
    held back (failed its suite, or left out of core) is listed as held back, not as new."""
    if not Path(settings.database).exists():
        return []
    from warehouse.db import connect

    with connect(settings.database, wait_seconds=settings.lock_wait_seconds) as con:
        rows = con.execute(
            "SELECT r.source_id, r.vintage, r.file_path FROM meta.releases r "
            "JOIN meta.batches b USING (batch_id) WHERE b.loaded_at >= ? "
            "AND coalesce(b.validation, '') <> 'failed' AND b.batch_id NOT IN "
            "(SELECT item FROM meta.held_back WHERE origin = 'core') ORDER BY 1, 2",
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


CHECK_WARNED = N_("{asset}: check {check} warned")
CHECK_FAILED = N_("{asset}: check {check} failed")


def asset_checks(results) -> tuple[list[str], list[str]]:
    """The asset checks that did not pass, as the Dagster UI lists them (asset, check and
    severity): warnings, then failures."""
    warned, failed = {}, {}
    for result in results:
        for evaluation in result.get_asset_check_evaluations():
            if evaluation.passed:
                continue
            asset = evaluation.asset_key.to_user_string()
            error = evaluation.severity.value == "ERROR"
            template = CHECK_FAILED if error else CHECK_WARNED
            (failed if error else warned)[(asset, evaluation.check_name)] = template.format(
                asset=asset, check=evaluation.check_name
            )
    return list(warned.values()), list(failed.values())


def step_seconds(results) -> dict[str, float]:
    """How long each step that succeeded took, by step key (summed over runs)."""
    taken: dict[str, float] = {}
    for result in results:
        for event in result.all_events:
            if event.event_type_value == "STEP_SUCCESS" and event.step_key:
                seconds = event.event_specific_data.duration_ms / 1000
                taken[event.step_key] = round(taken.get(event.step_key, 0.0) + seconds, 3)
    return taken


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
        refused = (manifest.get("changes") or {}).get("refused_edition")
        if refused and snap["version"] not in before.get(country, set()):
            warnings.append(
                N_("{country}: {refused}; replaced by {version}").format(
                    country=country, refused=refused, version=snap["version"]
                )
            )
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
    checks_warned, checks_failed = asset_checks(results)
    warnings = checks_warned + warnings
    failures += checks_failed
    failures += [
        CHECK_FAILED.format(asset=c, check=name)
        for c, s in written.items()
        for name in s["checks_failed"]
    ]
    missing = [c for c in countries if c not in written]
    failures += [
        f"{c}: no snapshot written (nothing in the data for this country, or a step failed)"
        for c in missing
    ]
    held = {(h["item"], h["reason"]): h for snap in written.values() for h in snap["held_back"]}
    return {
        "success": all(r.success for r in results) and not failures,
        "steps": step_seconds(results),
        "held_back": list(held.values()),
        "seconds": round(seconds, 1),
        "database": str(settings.database),
        "countries": list(countries),
        "snapshots": written,
        "unchanged": [c for c, snap in written.items() if snap["unchanged"]],
        "warnings": warnings,
        "failures": failures,
    }
