"""Taking in international publishers' releases: every file in the public data folder, every
file kept in `archive/PUBLIC/`, and every file dropped in `inbox/PUBLIC/`, each recognised by its
content and loaded as one batch per series it holds, with its edition as the vintage.

The releases present at the end of a scan are recorded in meta.releases; core is built from
them, the newest edition preferred for each value (warehouse/core.py). A release removed from
the folders drops out of the next profile but stays in meta.batches. Files dropped in the inbox
are moved to `archive/PUBLIC/` when loaded, to `rejected/PUBLIC/` with the reason when nothing
recognises them; the read-only public data folder is never written to.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb

from sources.expectations import validate_frame
from sources.i18n import N_
from sources.inbox import ENTRY_REASONS, PUBLIC_FOLDER, move_aside, odd_files_under, printable
from sources.intake import (
    FileNotReadyError,
    RefusedPathError,
    StagedFile,
    refuse_outside,
    staged_copy,
)
from sources.observations import FileLayoutError
from sources.publishers.files import release_files
from sources.publishers.registry import (
    Companion,
    NotRecognisedError,
    Release,
    Series,
    all_series,
    recognise,
)
from warehouse.batches import BatchReport, load_batch
from warehouse.db import transaction
from warehouse.held_back import record_public


@dataclass(frozen=True)
class ReleaseOutcome:
    file: str
    status: str  # loaded, unchanged, held back, not recognised, companion, rejected, waiting
    source_id: str | None = None
    edition: str | None = None
    edition_order: str | None = None
    vintage: str | None = None
    message: str | None = None
    batch: BatchReport | None = None
    moved_to: str | None = None

    @property
    def used(self) -> bool:
        """Present, loaded and valid: its values may enter the profile."""
        return self.status in ("loaded", "unchanged") and self.batch is not None

    def as_dict(self) -> dict:
        data = asdict(self)
        data["batch"] = self.batch.as_dict() if self.batch else None
        return data


def load_release(
    con: duckdb.DuckDBPyConnection, release: Release, staged: StagedFile
) -> ReleaseOutcome:
    """Load one series of one release from its staged copy, as one batch."""
    path = staged.original
    series = release.series
    report = load_batch(
        con,
        release.source_id,
        path,
        release.read,
        release.vintage,
        validate=lambda raw: validate_frame(series.checked_frame(raw), series.expectations()),
        staged=staged,
    )
    failed = report.validation == "failed"
    return ReleaseOutcome(
        str(path),
        "held back" if failed else report.status,
        release.source_id,
        release.edition,
        release.order,
        report.vintage or release.vintage,
        "failed its expectation suite; held back from the profile" if failed else None,
        report,
    )


def take_in_file(
    con: duckdb.DuckDBPyConnection, path: Path, root: Path, settle_seconds: float = 0.0
) -> list[ReleaseOutcome]:
    """Recognise and load one file where it lies (it is not moved here). Returns one outcome
    per series it holds, or one saying why nothing was loaded."""
    try:
        refuse_outside(path, root)
    except (RefusedPathError, OSError) as err:
        reason = str(err) if isinstance(err, RefusedPathError) else f"{path}: {err.strerror}"
        return [ReleaseOutcome(str(path), "rejected", message=reason)]
    try:
        with staged_copy(path, None, settle_seconds) as staged:
            return _take_in_staged(con, staged)
    except FileNotReadyError as err:
        return [ReleaseOutcome(str(path), "waiting", message=str(err))]


def _take_in_staged(con: duckdb.DuckDBPyConnection, staged: StagedFile) -> list[ReleaseOutcome]:
    path = staged.original
    try:
        found = recognise(staged.path, name=path.name, sent_from=path.parent)
    except NotRecognisedError as err:
        return [ReleaseOutcome(str(path), "not recognised", message=str(err))]
    except FileLayoutError as err:
        return [ReleaseOutcome(str(path), "rejected", message=str(err.at(path)))]
    except Exception as err:  # one unreadable file holds back only itself
        return [ReleaseOutcome(str(path), "rejected", message=_unreadable(path, err))]
    outcomes = []
    for item in found:
        if isinstance(item, Companion):
            outcomes.append(ReleaseOutcome(str(path), "companion", message=item.description))
            continue
        try:
            outcomes.append(load_release(con, item, staged))
        except FileLayoutError as err:
            outcomes.append(
                ReleaseOutcome(
                    str(path), "rejected", item.source_id, item.edition, message=str(err.at(path))
                )
            )
        except Exception as err:  # one unreadable file holds back only itself
            outcomes.append(
                ReleaseOutcome(
                    str(path),
                    "rejected",
                    item.source_id,
                    item.edition,
                    message=_unreadable(path, err),
                )
            )
    return outcomes


def _unreadable(path: Path, err: Exception) -> str:
    text = " ".join(str(err).split())[:300]
    return f"{path}: could not be read ({type(err).__name__}: {text})"


def take_in_releases(
    con: duckdb.DuckDBPyConnection,
    public_dir: Path,
    inbox: Path | None = None,
    settle_seconds: float = 0.0,
) -> list[ReleaseOutcome]:
    """Scan the public data folder and, with `inbox` (EMP_INBOX), the releases kept in
    `archive/PUBLIC/` beside it and those dropped in `inbox/PUBLIC/`; load every release found;
    record which are present (meta.releases) and what was held back (meta.held_back)."""
    outcomes: list[ReleaseOutcome] = []
    folders = [Path(public_dir)]
    if inbox is not None:
        folders.append(Path(inbox).parent / "archive" / PUBLIC_FOLDER)
    for folder in folders:
        for path in release_files(folder):
            if path.name.endswith((".report.json", ".reason.txt")):
                continue
            if printable(str(path)) != str(path):
                outcomes.append(
                    ReleaseOutcome(printable(str(path)), "held back", message=_bad_name(path))
                )
                continue
            outcomes += take_in_file(con, path, folder)
    if inbox is not None:
        outcomes += _take_in_inbox(con, Path(inbox), settle_seconds)
    record_releases(con, outcomes)
    return outcomes


def _take_in_inbox(
    con: duckdb.DuckDBPyConnection, inbox_root: Path, settle_seconds: float
) -> list[ReleaseOutcome]:
    """Files dropped in inbox/PUBLIC/: loaded and archived, or moved aside with the reason."""
    inbox = inbox_root / PUBLIC_FOLDER
    home = inbox_root.parent
    archive, rejected = home / "archive", home / "rejected"
    outcomes = []
    for path in release_files(inbox):
        if printable(str(path)) != str(path):
            moved = move_aside(path, rejected, PUBLIC_FOLDER, _bad_name(path))
            outcomes.append(
                ReleaseOutcome(
                    printable(str(path)), "rejected", message=_bad_name(path), moved_to=str(moved)
                )
            )
            continue
        try:
            refuse_outside(path, inbox)
        except (RefusedPathError, OSError) as err:
            reason = str(err) if isinstance(err, RefusedPathError) else f"{path}: {err.strerror}"
            moved = move_aside(path, rejected, PUBLIC_FOLDER, reason)
            outcomes.append(
                ReleaseOutcome(str(path), "rejected", message=reason, moved_to=str(moved))
            )
            continue
        try:
            with staged_copy(path, home / "staging", settle_seconds) as staged:
                found = _take_in_staged(con, staged)
                kept = [o for o in found if o.used or o.status == "companion"]
                if kept and len(kept) == len(found):
                    note = {"file": path.name, "releases": [o.as_dict() for o in found]}
                    moved = move_aside(staged.path, archive, PUBLIC_FOLDER, note, name=path.name)
                else:
                    reason = "; ".join(o.message or o.status for o in found if o not in kept)
                    moved = move_aside(staged.path, rejected, PUBLIC_FOLDER, reason, name=path.name)
                if staged.original_unchanged():
                    staged.original.unlink()
                outcomes += [
                    ReleaseOutcome(**{**asdict(o), "batch": o.batch, "moved_to": str(moved)})
                    for o in found
                ]
        except FileNotReadyError as err:
            outcomes.append(ReleaseOutcome(str(path), "waiting", message=str(err)))
    for path, kind in odd_files_under(inbox):  # none is passed over without a word
        reason = ENTRY_REASONS[kind].format(name=printable(path.name))
        if kind == "special":
            try:
                moved = move_aside(path, rejected, PUBLIC_FOLDER, reason)
                outcomes.append(
                    ReleaseOutcome(
                        printable(str(path)), "rejected", message=reason, moved_to=str(moved)
                    )
                )
                continue
            except OSError as err:
                reason = f"{reason}; it could not be moved to rejected/ ({err.strerror})"
        outcomes.append(ReleaseOutcome(printable(str(path)), "waiting", message=reason))
    return outcomes


def _bad_name(path: Path) -> str:
    return N_(
        "{name}: the file name holds bytes that are not UTF-8 text; rename it and send it again"
    ).format(name=printable(path.name))


def record_releases(con: duckdb.DuckDBPyConnection, outcomes: list[ReleaseOutcome]) -> None:
    """meta.releases := the releases present now; meta.held_back (origin public) := the files
    and releases not used, with the reason."""
    now = datetime.now(UTC).replace(tzinfo=None)
    present = {}
    for o in outcomes:
        if o.batch is not None and o.status in ("loaded", "unchanged", "held back"):
            present[(o.source_id, o.batch.batch_id)] = o
    held = [
        (o.source_id, o.file, o.message or o.status)
        for o in outcomes
        if o.status in ("held back", "not recognised", "rejected", "waiting")
    ]
    found = {source for source, _ in present}
    for series in wanted_series():
        if series.id not in found:
            held.append(
                (
                    series.id,
                    series.title,
                    f"no release of {series.title} ({series.publisher}) was found in the public "
                    f"data folder or inbox/{PUBLIC_FOLDER}/; download it from {series.download}",
                )
            )
    with transaction(con):
        con.execute("DELETE FROM meta.releases")
        for (source_id, batch_id), o in sorted(present.items()):
            con.execute(
                "INSERT INTO meta.releases VALUES (?, ?, ?, ?, ?, ?, ?)",
                [source_id, batch_id, o.edition, o.edition_order or "", o.vintage, o.file, now],
            )
        record_public(con, held)


def wanted_series() -> list[Series]:
    """The declared series some catalogue indicator reads."""
    from indicators.catalogue import catalogue

    used = {source for indicator in catalogue() for source in indicator.sources}
    return [s for s in all_series() if s.id in used]


def present_releases(con: duckdb.DuckDBPyConnection) -> list[dict]:
    """The releases present at the last scan that passed validation, oldest edition first
    within each series."""
    return (
        con.execute(
            """
            SELECT r.source_id, r.batch_id, r.edition, r.edition_order, r.vintage, r.file_path
            FROM meta.releases r JOIN meta.batches b USING (batch_id)
            WHERE coalesce(b.validation, '') <> 'failed'
            ORDER BY r.source_id, r.edition_order, b.loaded_at, r.batch_id
            """
        )
        .df()
        .drop_duplicates("batch_id")
        .to_dict(orient="records")
    )
