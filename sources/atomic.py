"""Writing files so that a reader sees the whole file or none: a temporary name beside the target,
then a rename. A killed run leaves only temporary names, which the next run clears."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

#: Temporary names carry the writing process: `.<name>.tmp-<pid>-<random>`.
_TEMP = re.compile(r"\.tmp-(?P<pid>\d+)-")
#: A temporary name without a process older than this is a leftover.
STALE_SECONDS = 600


def temporary_name(target: Path) -> Path:
    """A hidden temporary path beside `target`, named after this process."""
    return target.parent / f".{target.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}"


@contextlib.contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path to write (a file or a folder); on success it is renamed to
    `target` (replacing a file, never a folder); on failure it is removed."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    temp = temporary_name(target)
    try:
        yield temp
        if temp.is_dir():
            os.rename(temp, target)  # fails if the folder exists: never overwritten
        else:
            with open(temp, "rb") as fh:
                os.fsync(fh.fileno())
            os.replace(temp, target)
    except BaseException:
        _remove(temp)
        raise


def write_atomically(target: Path, content: str | bytes) -> Path:
    """Write `content` to `target` whole or not at all."""
    with atomic_path(target) as temp:
        if isinstance(content, str):
            temp.write_text(content, encoding="utf-8")
        else:
            temp.write_bytes(content)
    return target


def copy_atomically(source: Path, target: Path) -> Path:
    with atomic_path(target) as temp:
        shutil.copyfile(source, temp)
    return target


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path, ignore_errors=True)
    else:
        with contextlib.suppress(FileNotFoundError):
            path.unlink()


def sweep_leftovers(folder: Path, recursive: bool = True) -> list[Path]:
    """Remove the temporary files and folders that killed runs left under `folder`: those of a
    process that no longer runs, or older than STALE_SECONDS when no process is named."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    removed = []
    candidates = folder.rglob(".*tmp-*") if recursive else folder.glob(".*tmp-*")
    for path in sorted(candidates, key=lambda p: len(p.parts)):
        if not path.exists() and not path.is_symlink():
            continue  # inside a folder already removed
        found = _TEMP.search(path.name)
        if found:
            stale = not _alive(int(found["pid"]))
        else:
            try:
                stale = time.time() - path.lstat().st_mtime > STALE_SECONDS
            except FileNotFoundError:
                continue
        if stale:
            _remove(path)
            removed.append(path)
    return removed
