"""Verifying a published snapshot before anything reads it: every file against the manifest's
SHA-256, the manifest's content digest against the tables, and the synthetic marks against
the sources the manifest names. A tampered edition is refused with a message naming what does
not match; nothing reads it as if it were what EMP published.

Checksums and digests catch an edited or replaced file and a manifest edited by hand; someone
who rewrites a whole edition consistently (tables, checksums and digest) is caught by the
record each complete refresh keeps beside the warehouse (`manifest_sha256`, checked by
`emp refresh` before it trusts a published edition).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from publish.snapshot_index import INDICATORS_FILE, MANIFEST_FILE
from sources.i18n import N_


class TamperedSnapshotError(ValueError):
    """A published snapshot whose files or manifest do not match what was published."""


class PublishedOutputError(ValueError):
    """An output path inside a folder EMP publishes into: refused, nothing written."""


def manifest_sha256(folder: Path | str) -> str:
    return _sha256(Path(folder) / MANIFEST_FILE)


def _sha256(path: Path) -> str:
    from warehouse.fingerprints import file_sha256

    return file_sha256(path)


def _signature(folder: Path) -> tuple:
    """What changes when any file of the folder changes (size and time of each)."""
    return tuple(
        (str(p.relative_to(folder)), p.stat().st_size, p.stat().st_mtime_ns)
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    )


_VERIFIED: dict[str, tuple[tuple, dict]] = {}


def read_manifest(folder: Path | str) -> dict[str, Any]:
    """The manifest of a snapshot that verifies; TamperedSnapshotError otherwise. A snapshot
    verified once in this process is not read again while its files keep their size and time."""
    folder = Path(folder)
    where = N_("snapshot {name}").format(name=f"{folder.parent.name}/{folder.name}")
    try:
        signature = _signature(folder)
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise TamperedSnapshotError(f"{where}: its manifest cannot be read ({err})") from None
    seen = _VERIFIED.get(str(folder))
    if seen and seen[0] == signature:
        return seen[1]
    check_files(folder, manifest, where)
    check_content(folder, manifest, where)
    _VERIFIED[str(folder)] = (signature, manifest)
    return manifest


def intact(folder: Path | str, expected_manifest: str | None) -> bool:
    """Whether a snapshot is still as published: its manifest is the one recorded and its
    files match their checksums (hashes only: no table is read)."""
    folder = Path(folder)
    try:
        if not folder.is_dir() or (
            expected_manifest and manifest_sha256(folder) != expected_manifest
        ):
            return False
        manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
        check_files(folder, manifest, str(folder))
    except (OSError, ValueError):
        return False
    return True


def previous_edition(earlier: list[dict]) -> Path | None:
    """The newest of `earlier` (listed snapshots, oldest first) that verifies: a tampered
    edition is never what a new one is compared with."""
    for snap in reversed(earlier):
        try:
            read_manifest(snap["path"])
        except TamperedSnapshotError:
            continue
        return Path(snap["path"])
    return None


def check_files(folder: Path, manifest: dict, where: str) -> None:
    """Every file the manifest lists has its SHA-256; no file is missing or added."""
    if not isinstance(manifest, dict) or not isinstance(manifest.get("files"), list):
        raise TamperedSnapshotError(f"{where}: the manifest lists no files; refused")
    listed = {}
    for entry in manifest["files"]:
        if not isinstance(entry, dict) or not {"name", "sha256"} <= set(entry):
            raise TamperedSnapshotError(f"{where}: a file entry of the manifest is malformed")
        listed[str(entry["name"])] = str(entry["sha256"])
    present = {
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and p.name != MANIFEST_FILE and not p.name.startswith(".")
    }
    for name, expected in sorted(listed.items()):
        path = folder / name
        if not path.resolve().is_relative_to(folder.resolve()) or not path.is_file():
            raise TamperedSnapshotError(f"{where}: {name} is listed in the manifest but missing")
        if _sha256(path) != expected:
            raise TamperedSnapshotError(
                N_(
                    "{where}: {name} does not match the SHA-256 in its manifest: the file was "
                    "changed after it was published; this edition is refused (publish a new "
                    "one with `emp refresh --force`)"
                ).format(where=where, name=name)
            )
    added = sorted(present - set(listed))
    if added:
        raise TamperedSnapshotError(
            f"{where}: {', '.join(added[:3])} not listed in its manifest; this edition is refused"
        )


def published_tables(folder: Path, manifest: dict) -> dict:
    """The tables a snapshot's content digest covers, as publishing digested them."""
    import pandas as pd
    import pyarrow.parquet as pq

    from publish.snapshots import BASELINE_FILES, OVERLAPS_FILE

    indicators = pq.read_table(folder / INDICATORS_FILE).to_pandas()
    frames = {
        "indicators": indicators,
        "validation": pd.DataFrame(
            [{"json": json.dumps(manifest.get("validation"), sort_keys=True, default=str)}]
        ),
    }
    if (folder / OVERLAPS_FILE).exists():
        frames["overlaps"] = pq.read_table(folder / OVERLAPS_FILE).to_pandas()
    for key, name in BASELINE_FILES.items():
        if (folder / name).exists():
            frame = pq.read_table(folder / name).to_pandas()
            if "source_ids" in frame:  # marked when written, after the digest was taken
                frame = frame.drop(columns=["synthetic"], errors="ignore")
            frames[key] = frame
    return frames


def check_content(folder: Path, manifest: dict, where: str) -> None:
    """The tables give the manifest's content digest, and every value resting on a synthetic
    source is marked synthetic, as the manifest's inputs say."""
    from publish.snapshots import content_digest, rests_on

    frames = published_tables(folder, manifest)
    indicators = frames["indicators"]
    if content_digest(frames) != manifest.get("content_sha256"):
        raise TamperedSnapshotError(
            N_(
                "{where}: its tables do not give the content digest in its manifest; this "
                "edition is refused"
            ).format(where=where)
        )
    synthetic = set(manifest.get("synthetic_sources") or [])
    for found in manifest.get("inputs") or []:
        if bool(found.get("synthetic")) != (found.get("source_id") in synthetic):
            raise TamperedSnapshotError(
                N_(
                    "{where}: whether input {name} is synthetic disagrees with the manifest's "
                    "list of synthetic sources; this edition is refused"
                ).format(where=where, name=found.get("file_name") or found.get("source_id"))
            )
    marked = indicators["synthetic"].astype(bool)
    expected = indicators["source_ids"].map(lambda ids: rests_on(ids, synthetic)).astype(bool)
    if (marked != expected).any():
        raise TamperedSnapshotError(
            N_(
                "{where}: values resting on synthetic sources are not marked as the "
                "manifest's inputs say; this edition is refused"
            ).format(where=where)
        )


def reseal(folder: Path | str) -> dict:
    """Rewrite a snapshot's checksums and content digest from its files as they are now (for
    editions put together by hand, as tests and migrations do); returns the manifest."""
    from publish.snapshots import content_digest

    folder = Path(folder)
    manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
    names = sorted(
        str(p.relative_to(folder))
        for p in folder.rglob("*")
        if p.is_file() and p.name != MANIFEST_FILE and not p.name.startswith(".")
    )
    manifest["files"] = [
        {"name": n, "sha256": _sha256(folder / n), "bytes": (folder / n).stat().st_size}
        for n in names
    ]
    manifest["content_sha256"] = content_digest(published_tables(folder, manifest))
    (folder / MANIFEST_FILE).write_text(json.dumps(manifest, indent=2, default=str), "utf-8")
    _VERIFIED.pop(str(folder), None)
    return manifest


def refuse_published_output(path: Path | str, published: list[Path | str]) -> None:
    """Refuse to write `path` inside a folder EMP publishes into (snapshots, reports)."""
    target = Path(path).expanduser().absolute().resolve()
    for folder in published:
        root = Path(folder).expanduser().absolute().resolve()
        if target == root or target.is_relative_to(root):
            raise PublishedOutputError(
                N_(
                    "{path} lies inside {folder}, where EMP publishes: published files are "
                    "never overwritten; write the output elsewhere"
                ).format(path=path, folder=folder)
            )
