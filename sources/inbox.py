"""Matching dropped files to specs, and moving files aside. A file is never deleted."""

from __future__ import annotations

import json
import shutil
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING

from sources.atomic import write_atomically

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
    name = name or path.name
    target_dir = root / ministry
    target_dir.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%dT%H%M%SZ")
    target = target_dir / f"{stamp}__{name}"
    n = 1
    while target.exists() or target.is_symlink():
        n += 1
        target = target_dir / f"{stamp}-{n}__{name}"
    if isinstance(note, str):
        write_atomically(Path(f"{target}.reason.txt"), note + "\n")
    else:
        write_atomically(
            Path(f"{target}.report.json"),
            json.dumps(
                {**note, "moved_to": str(target)}, indent=2, ensure_ascii=False, default=str
            ),
        )
    shutil.move(str(path), target)
    return target
