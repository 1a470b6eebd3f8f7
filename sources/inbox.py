"""Matching dropped files to specs, and moving files aside. A file is never deleted."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sources.atomic import write_atomically
from sources.i18n import N_

if TYPE_CHECKING:
    from sources.specs import SourceSpec

#: inbox/PUBLIC/ takes publishers' releases (warehouse/releases.py), not ministry files.
PUBLIC_FOLDER = "PUBLIC"


@dataclass(frozen=True)
class Match:
    """The spec a file belongs to, or why none does."""

    spec: SourceSpec | None
    reason: str | None = None


def files_in(folder: Path) -> list[tuple[str, Path]]:
    """(ministry, entry) for every visible file in `folder/<ministry>/`. Links are listed, not
    followed (a linked ministry folder is listed itself), so that they can be refused."""
    if not folder.is_dir():
        return []
    found = []
    for ministry_dir in sorted(folder.iterdir()):
        if ministry_dir.name.startswith((".", "_")) or ministry_dir.name == PUBLIC_FOLDER:
            continue
        if not ministry_dir.is_symlink() and ministry_dir.is_file():
            found.append(("", ministry_dir))  # dropped beside the ministry folders: refused
            continue
        if ministry_dir.is_symlink():
            found.append((ministry_dir.name, ministry_dir))
            continue
        if not ministry_dir.is_dir():
            continue
        for path in sorted(ministry_dir.iterdir()):
            if path.name.startswith((".", "~$")):
                continue
            if path.is_symlink() or path.is_file():
                found.append((ministry_dir.name, path))
    return found


#: what the names of an Office lock file and a hidden file start with
LOCK_PREFIX = "~$"


#: why each kind of inbox entry that is not a file to read is not read
ENTRY_REASONS = {
    "hidden": N_(
        "{name} is a hidden file or an Office lock file: left where it is, not read "
        "(remove it, or rename it without the leading '.' or '~$' to have it read)"
    ),
    "folder": N_("{name} is a folder: put the files themselves in inbox/<MINISTRY>/"),
    "special": N_("{name} is not a regular file (a pipe, socket or device): refused, not opened"),
}


def odd_files_under(folder: Path) -> list[tuple[Path, str]]:
    """(entry, kind) for the hidden entries and the special files anywhere under `folder`
    (inbox/PUBLIC/ is read with its sub-folders), which `release_files` passes over."""
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.rglob("*")):
        parts = path.relative_to(folder).parts
        if any(part.startswith((".", LOCK_PREFIX, "_")) for part in parts[:-1]):
            continue  # inside a hidden folder: the folder itself is listed
        if path.name.startswith((".", LOCK_PREFIX, "_")):
            found.append((path, "hidden"))
        elif not (path.is_symlink() or path.is_file() or path.is_dir()):
            found.append((path, "special"))
    return found


def printable(text: str) -> str:
    """A name as text: bytes that are not UTF-8 (a file named on another system) shown as
    U+FFFD, so that a name can be written to a note, a table or a message."""
    return text.encode("utf-8", "surrogateescape").decode("utf-8", "replace")


def other_entries(folder: Path) -> list[tuple[str, Path, str]]:
    """(ministry, entry, kind) for everything in `folder/` and `folder/<ministry>/` that
    `files_in` does not list: hidden entries and Office lock files (`hidden`), folders inside a
    ministry folder (`folder`), and FIFOs, sockets and devices (`special`), so that each gets a
    fate instead of being passed over."""
    if not folder.is_dir():
        return []
    found = []
    for top in sorted(folder.iterdir()):
        if top.name == PUBLIC_FOLDER:
            continue
        if top.name.startswith((".", "_", LOCK_PREFIX)):
            found.append(("", top, "hidden"))
            continue
        if top.is_symlink() or top.is_file():
            continue
        if not top.is_dir():
            found.append(("", top, "special"))
            continue
        for path in sorted(top.iterdir()):
            if path.name.startswith((".", LOCK_PREFIX)):
                found.append((top.name, path, "hidden"))
            elif path.is_symlink() or path.is_file():
                continue
            elif path.is_dir():
                found.append((top.name, path, "folder"))
            else:
                found.append((top.name, path, "special"))
    return found


def match_spec(ministry: str, path: Path, specs: dict[str, SourceSpec]) -> Match:
    """Find the spec of `ministry` whose file pattern the file name matches."""
    own = [s for s in specs.values() if s.ministry == ministry]
    hits = [s for s in own if s.matches(path.name)]
    if len(hits) == 1:
        return Match(hits[0])
    if len(hits) > 1:
        ids = ", ".join(s.id for s in hits)
        return Match(None, f"{path.name} matches several specs of {ministry}: {ids}")
    elsewhere = [s for s in specs.values() if s.ministry != ministry and s.matches(path.name)]
    if elsewhere:
        other = elsewhere[0]
        return Match(
            None,
            f"{path.name} is named like a file of {other.ministry} ({other.id}), but it was "
            f"dropped in the folder of {ministry}; move it to the right folder",
        )
    if not own:
        return Match(None, f"no spec is declared for the folder {ministry!r}")
    patterns = ", ".join(repr(s.file_pattern) for s in own)
    return Match(
        None, f"{path.name} matches no spec of {ministry} (file name patterns: {patterns})"
    )


def move_aside(
    path: Path, root: Path, ministry: str, note: dict | str, name: str | None = None
) -> Path:
    """Move `path` (a link is moved itself, never followed) to
    `root/<ministry>/<timestamp>__<name>`, with a note beside it written first."""
    name = printable(name or path.name)
    target_dir = root / ministry
    target_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = target_dir / fitting_name(f"{stamp}__", name)
    n = 1
    while target.exists() or target.is_symlink():
        n += 1
        target = target_dir / fitting_name(f"{stamp}-{n}__", name)
    if isinstance(note, dict) and target.name != f"{stamp}__{name}":
        note = {**note, "original_name": name}
    elif target.name.split("__", 1)[-1] != name:
        note = f"{note}\n(original name: {name})"
    if isinstance(note, str):
        write_atomically(Path(f"{target}.reason.txt"), note + "\n")
    else:
        write_atomically(
            Path(f"{target}.report.json"),
            json.dumps(
                {**note, "moved_to": str(target)}, indent=2, ensure_ascii=False, default=str
            ),
        )
    if path.is_symlink() or path.is_file() or path.is_dir():
        shutil.move(str(path), target)
    else:  # a FIFO or a device is renamed, never opened (copying one would block)
        os.rename(path, target)
    return target


#: longest file name most file systems take, in bytes, and what EMP adds to a name beside it:
#: its note (`.report.json`), written through a temporary `.<name>.tmp-<pid>-<hex>`
NAME_MAX = 255
NOTE_SUFFIX = len(".report.json") + 32


def fitting_name(prefix: str, name: str) -> str:
    """`prefix + name`, shortened (the extension and a digest of the whole name kept) so that
    it and the note beside it fit in a file name."""
    whole = prefix + name
    room = NAME_MAX - NOTE_SUFFIX
    if len(whole.encode("utf-8")) <= room:
        return whole
    digest = hashlib.sha256(name.encode("utf-8", "surrogateescape")).hexdigest()[:12]
    suffix = Path(name).suffix
    suffix = suffix if len(suffix.encode("utf-8")) <= 16 else ""
    keep = room - len(prefix.encode("utf-8")) - len(suffix.encode("utf-8")) - len(digest) - 1
    stem = name.encode("utf-8", "surrogateescape")[:keep].decode("utf-8", "ignore")
    return f"{prefix}{stem}~{digest}{suffix}"
