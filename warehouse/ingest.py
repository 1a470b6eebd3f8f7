"""Ingesting ministry submissions: each file matched to its spec and loaded as one batch.

Files in the bundled sample folder stay where they are. Files dropped in the inbox are moved
once handled: to `archive/` with a batch report when loaded (or already loaded), to `rejected/`
with the reason when no spec matches or the file cannot be read.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from fnmatch import fnmatch
from pathlib import Path

import duckdb

from sources.expectations import suite_file, validate_frame
from sources.inbox import files_in, match_spec, move_aside
from sources.observations import FileLayoutError
from sources.projects import PROJECTS_FOLDER, REPORT_PATTERN, read_logframe, registry_codes
from sources.specs import SourceSpec
from sources.submissions import harmonise_submission, period_in_name, read_submission
from warehouse.batches import BatchReport, load_batch
from warehouse.projects import REPORTS_SOURCE


@dataclass(frozen=True)
class FileOutcome:
    ministry: str
    file: str
    status: str  # loaded, unchanged, held back (failed validation), rejected
    spec_id: str | None = None
    message: str | None = None
    batch: BatchReport | None = None
    moved_to: str | None = None

    def as_dict(self) -> dict:
        data = asdict(self)
        data["batch"] = self.batch.as_dict() if self.batch else None
        return data


def ingest_file(
    con: duckdb.DuckDBPyConnection,
    ministry: str,
    path: Path,
    specs: dict[str, SourceSpec],
    archive: Path | None = None,
    rejected: Path | None = None,
) -> FileOutcome:
    """Load one submission; with `archive`/`rejected`, move it there afterwards."""
    if ministry == PROJECTS_FOLDER:
        return _ingest_report(con, path, archive, rejected)
    found = match_spec(ministry, path, specs)
    if found.spec is None:
        return _reject(ministry, path, None, found.reason, rejected)
    spec = found.spec
    try:
        report = load_batch(
            con,
            spec.id,
            path,
            lambda p: read_submission(spec, p),
            vintage=f"{spec.ministry}: {spec.dataset} (spec v{spec.version})",
            spec_version=spec.version,
            identity=period_in_name(spec, path),
            validate=lambda raw: validate_frame(harmonise_submission(spec)(raw), spec.expectations),
        )
    except FileLayoutError as err:
        return _reject(ministry, path, spec.id, str(err), rejected)
    return _archive(con, ministry, path, spec.id, report, archive, rejected)


def _ingest_report(
    con: duckdb.DuckDBPyConnection, path: Path, archive: Path | None, rejected: Path | None
) -> FileOutcome:
    """A project's logframe report (sources/projects.py template)."""
    if not fnmatch(path.name, REPORT_PATTERN):
        reason = f"{path.name} is not a logframe report (file names: {REPORT_PATTERN!r})"
        return _reject(PROJECTS_FOLDER, path, None, reason, rejected)
    codes = registry_codes()
    try:
        report = load_batch(
            con,
            REPORTS_SOURCE,
            path,
            lambda p: read_logframe(p, codes),
            validate=lambda raw: validate_frame(raw, suite_file(REPORTS_SOURCE)),
        )
    except FileLayoutError as err:
        return _reject(PROJECTS_FOLDER, path, REPORTS_SOURCE, str(err), rejected)
    return _archive(con, PROJECTS_FOLDER, path, REPORTS_SOURCE, report, archive, rejected)


def _archive(
    con: duckdb.DuckDBPyConnection,
    ministry: str,
    path: Path,
    source_id: str,
    report: BatchReport,
    archive: Path | None,
    rejected: Path | None,
) -> FileOutcome:
    status = "held back" if report.validation == "failed" else report.status
    message = (
        "failed its expectation suite: kept in raw, not used in the profile"
        if report.validation == "failed"
        else None
    )
    outcome = FileOutcome(ministry, path.name, status, source_id, message, batch=report)
    if report.validation == "failed" and rejected is not None:
        archive = rejected  # the focal point gets it back with the report
    if archive is not None:
        quarantined = con.execute(
            "SELECT source_row, reasons FROM meta.quarantine WHERE batch_id = ? "
            "ORDER BY source_row LIMIT 50",
            [report.batch_id],
        ).fetchall()
        note = {
            **outcome.as_dict(),
            "quarantined_rows": [{"row": row, "reasons": reasons} for row, reasons in quarantined],
        }
        moved = move_aside(path, archive, ministry, note)
        outcome = FileOutcome(**{**asdict(outcome), "batch": report, "moved_to": str(moved)})
    return outcome


def _reject(
    ministry: str, path: Path, spec_id: str | None, reason: str, rejected: Path | None
) -> FileOutcome:
    moved = move_aside(path, rejected, ministry, reason) if rejected is not None else None
    return FileOutcome(
        ministry, path.name, "rejected", spec_id, reason, moved_to=str(moved) if moved else None
    )


def ingest_folder(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    specs: dict[str, SourceSpec],
    archive: Path | None = None,
    rejected: Path | None = None,
) -> list[FileOutcome]:
    """Every file in `folder/<ministry>/`, in name order."""
    return [
        ingest_file(con, ministry, path, specs, archive, rejected)
        for ministry, path in files_in(folder)
    ]
