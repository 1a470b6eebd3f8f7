"""The validation report a working-group member reads after each refresh: one HTML page and
the same content as JSON, built from what the warehouse stored."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import duckdb
from jinja2 import Environment, FileSystemLoader

from sources.atomic import sweep_leftovers, write_atomically
from warehouse.held_back import held_back
from warehouse.validation import latest_results

TEMPLATES = Path(__file__).parent / "templates"


def validation_report(con: duckdb.DuckDBPyConnection) -> dict:
    """Per source and batch: checks run, passed, warned, failed, with the failing values."""
    results = latest_results(con)
    results["failures"] = results["failures"].map(lambda text: json.loads(text) if text else [])
    batches = (
        con.execute(
            """
        SELECT b.source_id, b.batch_id, b.file_name, b.sha256,
               strftime(b.loaded_at, '%Y-%m-%d %H:%M') AS loaded_at, b.rows_read, b.rows_loaded,
               b.rows_quarantined, coalesce(b.validation, 'not checked') AS validation
        FROM meta.batches b ORDER BY b.source_id, b.loaded_at
        """
        )
        .df()
        .to_dict(orient="records")
    )
    quarantine = con.execute(
        "SELECT batch_id, source_row, reasons FROM meta.quarantine ORDER BY batch_id, source_row"
    ).df()
    for batch in batches:
        checks = results[results["batch_id"] == batch["batch_id"]].to_dict(orient="records")
        batch["checks"] = [_check(c) for c in checks]
        batch["counts"] = _counts(checks)
        rows = quarantine[quarantine["batch_id"] == batch["batch_id"]]
        batch["quarantined"] = [
            {"row": int(r.source_row), "reasons": list(r.reasons)}
            for r in rows.head(20).itertuples()
        ]
    sections = {}
    for scope in ("core", "indicators", "reconciliation"):
        checks = results[results["scope"] == scope].to_dict(orient="records")
        sections[scope] = {"checks": [_check(c) for c in checks], "counts": _counts(checks)}
    everything = results.to_dict(orient="records")
    return {
        "generated_at": datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC"),
        "counts": _counts(everything),
        "batches": batches,
        "sections": sections,
        "held_back": [b for b in batches if b["validation"] == "failed"],
        "held_back_items": held_back(con),
    }


def _check(row: dict) -> dict:
    status = "passed" if row["success"] else ("failed" if row["severity"] == "error" else "warned")
    return {
        "name": row["check_name"],
        "status": status,
        "severity": row["severity"],
        "description": row["description"],
        "failure_count": int(row["failure_count"] or 0),
        "failures": row["failures"][:10],
    }


def _counts(rows: list[dict]) -> dict:
    statuses = [_check(r)["status"] if "check_name" in r else r["status"] for r in rows]
    return {"run": len(statuses), **{s: statuses.count(s) for s in ("passed", "warned", "failed")}}


def write_report(report: dict, folder: Path) -> tuple[Path, Path]:
    """Write <timestamp>.html/.json and latest.html/.json under `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    sweep_leftovers(folder, recursive=False)  # what a killed run left half-written
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)  # every value escaped
    html = env.get_template("validation.html.j2").render(report=report)
    text = json.dumps(report, indent=2, default=str, ensure_ascii=False)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    for name in (stamp, "latest"):
        write_atomically(folder / f"{name}.html", html)
        write_atomically(folder / f"{name}.json", text)
    return folder / f"{stamp}.html", folder / f"{stamp}.json"
