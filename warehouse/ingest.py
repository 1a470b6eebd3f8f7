"""Ingesting ministry submissions: each file matched to its spec and loaded as one batch.

Files in the bundled sample folder stay where they are. Files dropped in the inbox are moved
once handled: to `archive/` with a batch report when loaded (or already loaded), to `rejected/`
with the reason when no spec matches or the file cannot be read.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import asdict, dataclass
from fnmatch import fnmatch
from pathlib import Path

import duckdb

from sources.check import held_back_reason
from sources.expectations import suite_file, validate_frame
from sources.i18n import N_
from sources.inbox import (
    ENTRY_REASONS,
    files_in,
    match_spec,
    move_aside,
    other_entries,
    printable,
)
from sources.intake import (
    FileNotReadyError,
    RefusedPathError,
    StagedFile,
    refuse_outside,
    staged_copy,
)
from sources.observations import FileLayoutError
from sources.projects import PROJECTS_FOLDER, REPORT_PATTERN, read_logframe, registry_codes
from sources.specs import SourceSpec, SpecSet
from sources.submissions import harmonise_submission, period_in_name, read_submission
from warehouse.batches import BatchReport, load_batch
from warehouse.projects import REPORTS_SOURCE


@dataclass(frozen=True)
class FileOutcome:
    ministry: str
    file: str
    status: str  # loaded, unchanged, held back (failed validation), rejected, waiting
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
    root: Path | None = None,
    settle_seconds: float = 0.0,
    held_specs: SpecSet | None = None,
) -> FileOutcome:
    """Load one submission; with `archive`/`rejected`, move it there afterwards.

    The file is refused if it is a link or lies outside `root` (default: its ministry folder's
    parent); otherwise it is copied once into a staging folder and hashed and read from that
    copy; a file still being written is left where it is for the next refresh. What is archived
    (or rejected) is the copy that was read."""
    root = Path(root) if root is not None else path.parent.parent
    if printable(path.name) != path.name or printable(ministry) != ministry:
        reason = N_(
            "{name}: the file name holds bytes that are not UTF-8 text; rename it and send it again"
        ).format(name=printable(path.name))
        return _reject(printable(ministry) or "_unsorted", path, None, reason, rejected)
    if not ministry:
        reason = (
            f"{path.name} was dropped beside the ministry folders; put it in the folder of the "
            "ministry that sends it (inbox/<MINISTRY>/)"
        )
        return _reject("_unsorted", path, None, reason, rejected)
    try:
        refuse_outside(path, root)
    except (RefusedPathError, OSError) as err:
        reason = str(err) if isinstance(err, RefusedPathError) else f"{path}: {err.strerror}"
        return _reject(ministry, path, None, reason, rejected)
    staging = None if archive is None else Path(archive).parent / "staging"
    try:
        with staged_copy(path, staging, settle_seconds) as staged:
            return _ingest_staged(con, ministry, staged, specs, archive, rejected, held_specs)
    except FileNotReadyError as err:
        return FileOutcome(ministry, path.name, "waiting", None, str(err))


def _ingest_staged(
    con: duckdb.DuckDBPyConnection,
    ministry: str,
    staged: StagedFile,
    specs: dict[str, SourceSpec],
    archive: Path | None,
    rejected: Path | None,
    held_specs: SpecSet | None = None,
) -> FileOutcome:
    path = staged.original
    if ministry == PROJECTS_FOLDER:
        return _ingest_report(con, staged, archive, rejected)
    found = match_spec(ministry, path, specs)
    held = held_specs.held_back_for(ministry, path.name) if held_specs else None
    if found.spec is None and held is not None:  # the spec's fault, not the sender's: wait
        return FileOutcome(
            ministry,
            path.name,
            "waiting",
            held.id,
            f"{path.name} waits for its spec to be fixed: {held.reason}",
        )
    if found.spec is None:
        return _reject(ministry, staged, None, found.reason, rejected)
    spec = found.spec
    try:
        report = load_batch(
            con,
            spec.id,
            path,
            lambda p: read_submission(spec, p),
            vintage=f"{spec.ministry}: {spec.dataset} (spec v{spec.version})",
            spec_version=spec.version,
            identity=batch_identity(spec, path),
            validate=lambda raw: validate_frame(harmonise_submission(spec)(raw), spec.rules),
            staged=staged,
        )
    except FileLayoutError as err:
        return _reject(ministry, staged, spec.id, str(err), rejected)
    except Exception as err:  # one unreadable file holds back only itself
        return _reject(ministry, staged, spec.id, unreadable(path, err), rejected)
    return _archive(con, ministry, staged, spec.id, report, archive, rejected, spec)


def batch_identity(spec: SourceSpec, path: Path) -> str | None:
    """What tells two batches of the same bytes apart: the period the file name gives, and
    the spec's version from version 2 on (a file read under version 1 keeps its batch id)."""
    parts = [period_in_name(spec, path), f"v{spec.version}" if spec.version > 1 else None]
    return "-".join(p for p in parts if p) or None


def reread_archived(
    con: duckdb.DuckDBPyConnection,
    archive: Path,
    specs: dict[str, SourceSpec],
) -> list[FileOutcome]:
    """Files loaded under an older version of their spec, read again from the archive under
    the version in force (the old batches stay in the history, out of core)."""
    from warehouse.batches import older_version_batches
    from warehouse.fingerprints import file_sha256

    outcomes = []
    for spec in specs.values():
        older = older_version_batches(con, spec.id, spec.version)
        if not older:
            continue
        wanted = {
            row[0]: row[1]
            for row in con.execute(
                "SELECT batch_id, sha256 FROM meta.batches WHERE source_id = ?", [spec.id]
            ).fetchall()
        }
        folder = Path(archive) / spec.ministry
        kept = {}
        for path in sorted(folder.glob("*__*")) if folder.is_dir() else []:
            if path.is_file() and not path.is_symlink() and not path.name.endswith(NOTES):
                kept.setdefault(file_sha256(path), path)
        for batch_id, name, _ in older:
            path = kept.get(wanted.get(batch_id, ""))
            if path is None:
                continue  # core lists it as held back until the file is sent again
            try:
                with tempfile.TemporaryDirectory() as folder:
                    named = Path(folder) / name  # read under its own name, as when it came
                    shutil.copyfile(path, named)
                    with staged_copy(named) as staged:
                        report = load_batch(
                            con,
                            spec.id,
                            path.with_name(name),
                            lambda p, spec=spec: read_submission(spec, p),
                            vintage=f"{spec.ministry}: {spec.dataset} (spec v{spec.version})",
                            spec_version=spec.version,
                            identity=batch_identity(spec, named),
                            validate=lambda raw, spec=spec: validate_frame(
                                harmonise_submission(spec)(raw), spec.rules
                            ),
                            staged=staged,
                        )
            except Exception as err:  # one unreadable file holds back only itself
                text = str(err) if isinstance(err, FileLayoutError) else unreadable(path, err)
                outcomes.append(FileOutcome(spec.ministry, name, "held back", spec.id, text))
                continue
            status = "held back" if report.validation == "failed" else "loaded"
            message = (
                held_back_reason(spec, report.outcomes)
                if report.validation == "failed"
                else f"read again under version {spec.version} of {spec.id}"
            )
            outcomes.append(
                FileOutcome(spec.ministry, name, status, spec.id, message, batch=report)
            )
    return outcomes


#: the notes EMP writes beside the files it moves aside
NOTES = (".report.json", ".reason.txt")


def unreadable(path: Path, err: Exception) -> str:
    """A reader failure that is not a layout problem, in one line."""
    text = " ".join(str(err).split())[:300]
    return f"{path}: could not be read ({type(err).__name__}: {text})"


def _ingest_report(
    con: duckdb.DuckDBPyConnection,
    staged: StagedFile,
    archive: Path | None,
    rejected: Path | None,
) -> FileOutcome:
    """A project's logframe report (sources/projects.py template)."""
    path = staged.original
    if not fnmatch(path.name, REPORT_PATTERN):
        reason = f"{path.name} is not a logframe report (file names: {REPORT_PATTERN!r})"
        return _reject(PROJECTS_FOLDER, staged, None, reason, rejected)
    codes = registry_codes()
    try:
        report = load_batch(
            con,
            REPORTS_SOURCE,
            path,
            lambda p: read_logframe(p, codes),
            validate=lambda raw: validate_frame(raw, suite_file(REPORTS_SOURCE)),
            staged=staged,
        )
    except FileLayoutError as err:
        return _reject(PROJECTS_FOLDER, staged, REPORTS_SOURCE, str(err), rejected)
    except Exception as err:  # one unreadable file holds back only itself
        return _reject(PROJECTS_FOLDER, staged, REPORTS_SOURCE, unreadable(path, err), rejected)
    return _archive(con, PROJECTS_FOLDER, staged, REPORTS_SOURCE, report, archive, rejected)


def _archive(
    con: duckdb.DuckDBPyConnection,
    ministry: str,
    staged: StagedFile,
    source_id: str,
    report: BatchReport,
    archive: Path | None,
    rejected: Path | None,
    spec: SourceSpec | None = None,
) -> FileOutcome:

    path = staged.original
    status = "held back" if report.validation == "failed" else report.status
    message = held_back_reason(spec, report.outcomes) if report.validation == "failed" else None
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
        moved = move_aside(staged.path, archive, ministry, note, name=path.name)
        message = release_original(staged, outcome.message)
        outcome = FileOutcome(
            **{**asdict(outcome), "batch": report, "moved_to": str(moved), "message": message}
        )
    return outcome


def release_original(staged: StagedFile, message: str | None) -> str | None:
    """The dropped file's bytes are now kept where they were moved: remove it from the inbox,
    unless it changed since it was read (then it stays, for the next refresh)."""
    if staged.original_unchanged():
        staged.original.unlink()
        return message
    note = "the file in the inbox changed after it was read; it stays there for the next refresh"
    return f"{message}; {note}" if message else note


def _reject(
    ministry: str,
    file: Path | StagedFile,
    spec_id: str | None,
    reason: str,
    rejected: Path | None,
) -> FileOutcome:
    """Refuse a file with its reason. A staged file is kept in rejected/ as the bytes that were
    read; a refused path (a link) is moved there itself, never followed."""
    name = file.original.name if isinstance(file, StagedFile) else file.name
    moved = None
    if rejected is not None:
        if isinstance(file, StagedFile):
            moved = move_aside(file.path, rejected, ministry, reason, name=name)
            extra = release_original(file, None)
            reason = f"{reason}; {extra}" if extra else reason
        else:
            moved = move_aside(file, rejected, ministry, reason)
    return FileOutcome(
        ministry,
        printable(name),
        "rejected",
        spec_id,
        reason,
        moved_to=printable(str(moved)) if moved else None,
    )


def ingest_folder(
    con: duckdb.DuckDBPyConnection,
    folder: Path,
    specs: dict[str, SourceSpec],
    archive: Path | None = None,
    rejected: Path | None = None,
    settle_seconds: float = 0.0,
    held_specs: SpecSet | None = None,
    only_specs: bool = False,
) -> list[FileOutcome]:
    """Every file in `folder/<ministry>/`, in name order; links are refused, never followed.
    With `only_specs`, only the folders some spec (in force or held back) belongs to: a shared
    folder of statistics-office files may hold offices the working group does not read."""
    known = {s.ministry for s in specs.values()}
    if held_specs is not None:
        known |= {h.ministry for h in held_specs.held_back}
    outcomes = [
        ingest_file(
            con, ministry, path, specs, archive, rejected, folder, settle_seconds, held_specs
        )
        for ministry, path in files_in(folder)
        if not only_specs or ministry in known
    ]
    if archive is not None:  # the inbox: what is not a file to read gets a fate too
        outcomes += [fate_of_entry(m, p, kind, rejected) for m, p, kind in other_entries(folder)]
    return outcomes


def fate_of_entry(ministry: str, path: Path, kind: str, rejected: Path | None) -> FileOutcome:
    """An inbox entry that is not a file to read: a hidden file waits with its reason (an
    editor may still hold it); a folder or a special file is moved to rejected/."""
    reason = ENTRY_REASONS[kind].format(name=printable(path.name))
    ministry, name = printable(ministry), printable(path.name)
    if kind == "hidden" or rejected is None:
        return FileOutcome(ministry or "_unsorted", name, "waiting", None, reason)
    try:
        moved = move_aside(path, rejected, ministry or "_unsorted", reason)
    except OSError as err:
        why = f"{reason}; it could not be moved to rejected/ ({err.strerror})"
        return FileOutcome(ministry or "_unsorted", name, "waiting", None, why)
    return FileOutcome(
        ministry or "_unsorted", name, "rejected", None, reason, moved_to=printable(str(moved))
    )
