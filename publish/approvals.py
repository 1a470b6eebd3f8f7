"""The working group's approval of each edition: a refresh publishes a draft, `emp approve` makes
it the country's published edition and `emp unapprove` withdraws it.

Approvals are kept in one append-only log, `<snapshots>/approvals.jsonl`, one JSON entry per
line. Each entry holds the approved edition's content digest and manifest digest, its own
digest and the digest of the entry before it, so an edited or removed entry, or an approved
edition edited afterwards, is found on every read and refused (ApprovalLogError,
TamperedSnapshotError)."""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from publish.snapshot_check import TamperedSnapshotError, read_manifest
from publish.snapshot_index import MANIFEST_FILE, list_snapshots
from sources.i18n import N_

LOG_FILE = "approvals.jsonl"
GENESIS = "0" * 64
APPROVED, DRAFT, WITHDRAWN = "approved", "draft", "withdrawn"


class ApprovalLogError(ValueError):
    """The approval log was edited, or an approval cannot be made as asked."""


@dataclass(frozen=True)
class Approval:
    action: str  # approve or unapprove
    country: str
    version: str
    by: str
    at: str
    note: str | None
    content_sha256: str
    manifest_sha256: str


def log_path(snapshots: Path) -> Path:
    return Path(snapshots) / LOG_FILE


def _digest(entry: dict) -> str:
    body = {k: v for k, v in entry.items() if k != "digest"}
    return hashlib.sha256(json.dumps(body, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def read_log(snapshots: Path) -> list[Approval]:
    """Every entry, oldest first, after checking the chain: each entry's own digest and the
    digest of the one before it."""
    path = log_path(snapshots)
    if not path.exists():
        return []
    found, previous = [], GENESIS
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            entry = json.loads(line)
            fields = {k: entry[k] for k in Approval.__dataclass_fields__}
        except (ValueError, KeyError, TypeError):
            raise ApprovalLogError(
                N_("{file}, line {line}: the approval log cannot be read; refused").format(
                    file=path, line=number
                )
            ) from None
        if entry.get("previous") != previous or entry.get("digest") != _digest(entry):
            raise ApprovalLogError(
                N_(
                    "{file}, line {line}: the approval log was edited after it was written "
                    "(its chain of digests is broken); refused"
                ).format(file=path, line=number)
            )
        previous = entry["digest"]
        found.append(Approval(**fields))
    return found


def _manifest_sha(folder: Path) -> str:
    return hashlib.sha256((folder / MANIFEST_FILE).read_bytes()).hexdigest()


def statuses(snapshots: Path, country: str | None = None) -> dict[tuple[str, str], Approval]:
    """(country, version) -> its last approval entry, for editions approved now (a withdrawn
    one is left out). Each approved edition is checked against the digests it was approved
    with: one edited since is refused."""
    last: dict[tuple[str, str], Approval] = {}
    for entry in read_log(snapshots):
        if country and entry.country != country:
            continue
        last[(entry.country, entry.version)] = entry
    approved = {key: e for key, e in last.items() if e.action == "approve"}
    for (country_code, version), entry in approved.items():
        folder = Path(snapshots) / country_code / version
        where = N_("snapshot {name}").format(name=f"{country_code}/{version}")
        manifest = read_manifest(folder)
        if (
            manifest.get("content_sha256") != entry.content_sha256
            or _manifest_sha(folder) != entry.manifest_sha256
        ):
            raise TamperedSnapshotError(
                N_(
                    "{where}: it no longer is the edition the working group approved; refused"
                ).format(where=where)
            )
    return approved


def withdrawn(snapshots: Path, country: str | None = None) -> dict[tuple[str, str], Approval]:
    """(country, version) -> the entry that withdrew its approval, for editions withdrawn now."""
    last: dict[tuple[str, str], Approval] = {}
    for entry in read_log(snapshots):
        if not country or entry.country == country:
            last[(entry.country, entry.version)] = entry
    return {key: e for key, e in last.items() if e.action == "unapprove"}


def edition_status(snapshots: Path, country: str, version: str) -> str:
    """approved, withdrawn (approved once, now not) or draft."""
    if (country, version) in statuses(snapshots, country):
        return APPROVED
    return WITHDRAWN if (country, version) in withdrawn(snapshots, country) else DRAFT


def with_status(snapshots: Path, found: list[dict]) -> list[dict]:
    """Listed snapshots with their status, and who approved them and when."""
    approved = statuses(snapshots)
    taken_back = withdrawn(snapshots)
    result = []
    for snap in found:
        key = (snap["country"], snap["version"])
        entry = approved.get(key)
        status = APPROVED if entry else WITHDRAWN if key in taken_back else DRAFT
        result.append(
            {
                **snap,
                "status": status,
                "approved_by": entry.by if entry else None,
                "approved_at": entry.at if entry else None,
            }
        )
    return result


def latest_approved(snapshots: Path, country: str) -> dict | None:
    """The newest approved edition of the country: what the public sees."""
    approved = statuses(snapshots, country)
    found = [s for s in list_snapshots(snapshots, country) if (country, s["version"]) in approved]
    return found[-1] if found else None


def current_edition(snapshots: Path, country: str) -> tuple[dict | None, str]:
    """What a reader gets by default: the latest approved edition, else the newest draft; with
    its status."""
    approved = latest_approved(snapshots, country)
    if approved:
        return approved, APPROVED
    found = list_snapshots(snapshots, country)
    return (found[-1], DRAFT) if found else (None, DRAFT)


def _append(snapshots: Path, entry: dict) -> Approval:
    entries = read_log(snapshots)
    path = log_path(snapshots)
    previous = GENESIS
    if entries:
        last_line = [x for x in path.read_text(encoding="utf-8").splitlines() if x.strip()][-1]
        previous = json.loads(last_line)["digest"]
    entry = {**entry, "previous": previous}
    entry["digest"] = _digest(entry)
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a", encoding="utf-8") as log:
        log.write(json.dumps(entry, ensure_ascii=False, sort_keys=True) + "\n")
        log.flush()
        os.fsync(log.fileno())
    return Approval(**{k: entry[k] for k in Approval.__dataclass_fields__})


def _edition(snapshots: Path, country: str, version: str) -> tuple[Path, dict]:
    folder = Path(snapshots) / country / version
    if not (folder / MANIFEST_FILE).exists():
        raise ApprovalLogError(
            N_("no edition {version} of {country}").format(version=version, country=country)
        )
    return folder, read_manifest(folder)  # a tampered edition is never approved


def approve(snapshots: Path, country: str, version: str, by: str, note: str | None) -> Approval:
    """Approve a draft: it becomes the country's published edition."""
    if not by.strip():
        raise ApprovalLogError(N_("say who approves (--by)"))
    folder, manifest = _edition(snapshots, country, version)
    if edition_status(snapshots, country, version) == APPROVED:
        raise ApprovalLogError(
            N_("edition {version} of {country} is already approved").format(
                version=version, country=country
            )
        )
    return _append(
        snapshots,
        {
            "action": "approve",
            "country": country,
            "version": version,
            "by": by.strip(),
            "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "note": note,
            "content_sha256": manifest["content_sha256"],
            "manifest_sha256": _manifest_sha(folder),
        },
    )


def unapprove(snapshots: Path, country: str, version: str, by: str, reason: str) -> Approval:
    """Withdraw an approval: the edition is a draft again, and the public sees the approved
    edition before it (or none)."""
    if not reason.strip():
        raise ApprovalLogError(N_("say why the approval is withdrawn (--reason)"))
    folder, manifest = _edition(snapshots, country, version)
    if edition_status(snapshots, country, version) != APPROVED:
        raise ApprovalLogError(
            N_("edition {version} of {country} is not approved").format(
                version=version, country=country
            )
        )
    return _append(
        snapshots,
        {
            "action": "unapprove",
            "country": country,
            "version": version,
            "by": by.strip() or "?",
            "at": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "note": reason.strip(),
            "content_sha256": manifest["content_sha256"],
            "manifest_sha256": _manifest_sha(folder),
        },
    )


def compared_with(snapshots: Path, country: str, version: str) -> Path | None:
    """The edition a report compares with: for a draft, the latest approved edition before it
    (what changed since the public version); otherwise the newest earlier edition that
    verifies."""
    from publish.snapshot_check import previous_edition

    earlier = [s for s in list_snapshots(snapshots, country) if s["version"] < version]
    if edition_status(snapshots, country, version) != APPROVED:
        approved = statuses(snapshots, country)
        shown = [s for s in earlier if (country, s["version"]) in approved]
        if shown:
            return Path(shown[-1]["path"])
    return previous_edition(earlier)
