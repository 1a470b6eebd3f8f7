"""Where publishers' releases lie, and which edition of each series the embedded default data
set holds (the one the synthetic samples are built from)."""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from pathlib import Path

import pandas as pd

from sources.data_home import PROVENANCE_FILE, _located, public_data_dir
from sources.observations import RawRead
from sources.publishers.registry import Release, recognise

#: Files that document a release rather than hold it: never taken for data.
DOCUMENT_SUFFIXES = frozenset(
    {".md", ".txt", ".pdf", ".json", ".html", ".htm", ".docx", ".doc", ".yaml", ".yml"}
)


def release_files(folder: Path) -> list[Path]:
    """Every visible file under `folder` (sub-folders too), in path order; links are listed
    (so that they can be refused), documentation files are not."""
    folder = Path(folder)
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder)
        if any(part.startswith((".", "~$", "_")) for part in relative.parts):
            continue
        if path.suffix.lower() in DOCUMENT_SUFFIXES:
            continue
        if path.is_symlink() or path.is_file():
            found.append(path)
    return found


def default_public_files() -> list[Path]:
    """The publishers' files of the embedded default data set (sources/data/provenance.csv)."""
    with open(PROVENANCE_FILE, encoding="utf-8", newline="") as fh:
        return [
            _located(row["path"]) for row in csv.DictReader(fh) if row["path"].startswith("public/")
        ]


@cache
def default_release(series_id: str) -> tuple[Path, Release]:
    """The file and release of `series_id` in the embedded default data set."""
    for path in default_public_files():
        if not path.is_file():
            continue
        for release in recognise(path):
            if isinstance(release, Release) and release.source_id == series_id:
                return path, release
    raise FileNotFoundError(
        f"no file of the series {series_id!r} in the default data set under {public_data_dir()} "
        "(set EMP_SHARED_DATA or EMP_PUBLIC_DATA to the folder holding the publishers' files)"
    )


def default_observations(series_id: str) -> pd.DataFrame:
    """The harmonised observations of the default edition of `series_id`."""
    path, release = default_release(series_id)
    return release.series.harmonise(release.read(path).frame)


def missing_files() -> list[str]:
    """The default data set's publisher files that are not where they should be."""
    return [str(p) for p in default_public_files() if not p.is_file()]


@dataclass(frozen=True)
class DefaultFile:
    """The default edition of a series as one file: where it lies, how it is read."""

    source_id: str
    file: Path
    release: Release

    def path(self) -> Path:
        return self.file

    def reader(self, path: Path) -> RawRead:
        return self.release.read(path)

    def harmoniser(self, raw: pd.DataFrame) -> pd.DataFrame:
        return self.release.series.harmonise(raw)


def default_file(series_id: str) -> DefaultFile:
    path, release = default_release(series_id)
    return DefaultFile(series_id, path, release)
