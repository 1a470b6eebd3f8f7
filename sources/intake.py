"""Taking a file in: refuse what lies outside its folder, wait until it is complete, and copy it
once into a staging area where it is hashed and read from the same bytes.

A file is never read twice from where it was dropped: the SHA-256 recorded for a batch always
describes the rows loaded, even if the sender replaces or rewrites the file meanwhile.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import shutil
import stat
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from sources.i18n import N_
from sources.limits import limits

#: a modification time this far ahead of the clock is a wrong clock, not a file being written
FUTURE_SLACK_SECONDS = 5.0


class FileNotReadyError(RuntimeError):
    """The file is still being written, or changed while it was read: left for the next refresh."""


class RefusedPathError(ValueError):
    """A symbolic link, or something that is not a regular file inside its folder."""


@dataclass(frozen=True)
class StagedFile:
    """The bytes of `original` as copied once into `path`, with their SHA-256."""

    original: Path
    path: Path
    sha256: str
    size: int
    fingerprint: tuple[int, int, int, int]  # device, inode, size, mtime (ns) when read
    notes: tuple[str, ...] = ()  # what was odd about the file but did not stop it

    def original_unchanged(self) -> bool:
        """Whether the file where it was dropped is still the one that was read."""
        try:
            return _fingerprint(os.stat(self.original, follow_symlinks=False)) == self.fingerprint
        except OSError:
            return False


def _fingerprint(info: os.stat_result) -> tuple[int, int, int, int]:
    return (info.st_dev, info.st_ino, info.st_size, info.st_mtime_ns)


def refuse_outside(path: Path, root: Path) -> None:
    """Refuse a symbolic link (the file or any folder between `root` and it), a path that
    resolves outside `root`, and anything that is not a regular file. The message names the
    path only, never what it points to or holds."""
    root = Path(root).absolute()
    path = Path(path).absolute()
    try:
        relative = path.relative_to(root)
    except ValueError:
        raise RefusedPathError(f"{path} lies outside {root}; refused") from None
    current = root
    for part in relative.parts:
        current = current / part
        if current.is_symlink():
            raise RefusedPathError(
                f"{current} is a symbolic link; links are refused (copy the file itself)"
            )
    if not Path(os.path.realpath(path)).is_relative_to(Path(os.path.realpath(root))):
        raise RefusedPathError(f"{path} resolves outside {root}; refused")
    if not stat.S_ISREG(os.stat(path, follow_symlinks=False).st_mode):
        raise RefusedPathError(f"{path} is not a regular file; refused")


@contextlib.contextmanager
def staged_copy(
    path: Path, staging: Path | None = None, settle_seconds: float = 0.0
) -> Iterator[StagedFile]:
    """Copy `path` once into a fresh folder under `staging` (default: the system's temporary
    folder), hashing as it copies. A file modified less than `settle_seconds` ago is watched that
    long and left alone if it grows; a file that changes while it is copied is left alone too
    (FileNotReadyError). The staged copy is removed on exit unless it was moved away."""
    path = Path(path)
    if staging is not None:
        Path(staging).mkdir(parents=True, exist_ok=True)
    folder = Path(tempfile.mkdtemp(prefix=f".stage.tmp-{os.getpid()}-", dir=staging))
    try:
        yield _copy(path, folder / path.name, settle_seconds)
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def _copy(path: Path, target: Path, settle_seconds: float) -> StagedFile:
    limit = limits().file_bytes
    try:
        fd = os.open(path, os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0))
    except OSError as err:
        if Path(path).is_symlink():
            raise RefusedPathError(f"{path} is a symbolic link; links are refused") from None
        raise FileNotReadyError(f"{path}: cannot be opened ({err.strerror})") from None
    with os.fdopen(fd, "rb") as source:
        before = os.fstat(source.fileno())
        if not stat.S_ISREG(before.st_mode):
            raise RefusedPathError(f"{path} is not a regular file; refused")
        age = time.time() - before.st_mtime
        notes: tuple[str, ...] = ()
        if age < -FUTURE_SLACK_SECONDS:  # a clock set wrong where it was written: not waited for
            when = datetime.fromtimestamp(before.st_mtime, UTC).strftime("%Y-%m-%d %H:%M UTC")
            notes = (
                N_(
                    "{name}: its modification time ({when}) lies in the future; it was taken "
                    "as settled"
                ).format(name=path.name, when=when),
            )
        elif age < settle_seconds:
            time.sleep(settle_seconds - age)
            settled = os.fstat(source.fileno())
            if _fingerprint(settled) != _fingerprint(before):
                raise FileNotReadyError(
                    f"{path}: still being written (it grew from {before.st_size:,} to "
                    f"{settled.st_size:,} bytes); left for the next refresh"
                )
        if before.st_size > limit:
            raise FileNotReadyError(
                f"{path}: {before.st_size:,} bytes, beyond the limit of {limit:,} "
                "(EMP_MAX_FILE_BYTES)"
            )
        digest, size = hashlib.sha256(), 0
        with open(target, "wb") as out:
            for chunk in iter(lambda: source.read(1 << 20), b""):
                digest.update(chunk)
                out.write(chunk)
                size += len(chunk)
                if size > limit:
                    raise FileNotReadyError(
                        f"{path}: beyond the limit of {limit:,} bytes (EMP_MAX_FILE_BYTES)"
                    )
        after = os.fstat(source.fileno())
    try:
        now = os.stat(path, follow_symlinks=False)
    except OSError:
        now = None
    if _fingerprint(after) != _fingerprint(before) or size != before.st_size:
        raise FileNotReadyError(
            f"{path}: changed while it was read ({before.st_size:,} -> {after.st_size:,} "
            "bytes); left for the next refresh"
        )
    if now is None or (now.st_dev, now.st_ino) != (before.st_dev, before.st_ino):
        raise FileNotReadyError(
            f"{path}: replaced by another file while it was read; left for the next refresh"
        )
    return StagedFile(path, target, digest.hexdigest(), size, _fingerprint(before), notes)
