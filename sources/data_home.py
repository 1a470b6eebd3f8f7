"""Where the third-party data lie: read in place, never copied into the project.

The publishers' releases, the real national statistics and the JMDI project registry are kept in
the shared data folder beside the checkout (`../shared/data/`), as their publishers released them.
`EMP_SHARED_DATA` moves the whole folder; `EMP_PUBLIC_DATA`, `EMP_NATIONAL_STATISTICS` and
`EMP_REFERENCE_DATA` move one part.
"""

from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]
#: The default: the shared data folder beside the checkout.
DEFAULT_SHARED_DATA = PROJECT_ROOT.parent / "shared" / "data"


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name, "").strip()
    return Path(value).expanduser().absolute() if value else None


def shared_data_dir() -> Path:
    """The folder holding `public/`, `national/` and `reference/` (EMP_SHARED_DATA)."""
    return _env_path("EMP_SHARED_DATA") or DEFAULT_SHARED_DATA


def public_data_dir() -> Path:
    """International publishers' releases (EMP_PUBLIC_DATA, default <shared>/public)."""
    return _env_path("EMP_PUBLIC_DATA") or shared_data_dir() / "public"


def national_statistics_dir() -> Path:
    """Real files of national statistics offices, one folder per office named like its specs'
    `ministry` (EMP_NATIONAL_STATISTICS, default <shared>/national); read where they lie."""
    return _env_path("EMP_NATIONAL_STATISTICS") or shared_data_dir() / "national"


def reference_data_dir() -> Path:
    """Third-party reference tables, e.g. the JMDI project registry (EMP_REFERENCE_DATA)."""
    return _env_path("EMP_REFERENCE_DATA") or shared_data_dir() / "reference"


def registry_path() -> Path:
    """The JMDI project registry as extracted from the handbook's annex."""
    return reference_data_dir() / "jmdi_projects.csv"


PROVENANCE_FILE = Path(__file__).parent / "data" / "provenance.csv"
#: the bundled synthetic ministry files (sources/samples.py writes them)
NATIONAL_DATA_DIR = Path(__file__).parent / "data" / "national"
#: census codebooks (one YAML per census: its country, round and variables)
CODEBOOK_DIR = Path(__file__).parent / "census" / "codebooks"
#: the bundled source specs (one YAML per ministry dataset), EMP_SPECS
SPECS_DIR = Path(__file__).parent / "specs"
#: registered baseline requests (YAML), EMP_BASELINE_REQUESTS
BASELINE_REQUESTS_DIR = Path(__file__).parent / "baselines"


def _located(relative: str) -> Path:
    head, _, rest = relative.partition("/")
    if head == "public":
        return public_data_dir() / rest
    if head == "reference":
        return reference_data_dir() / rest
    if head == "national":
        return national_statistics_dir() / rest
    return shared_data_dir() / relative


def data_status() -> dict:
    """The recorded third-party files: where they were looked for, which are missing, and
    which differ from the SHA-256 in sources/data/provenance.csv (a new edition, a bad copy)."""
    import csv
    import hashlib

    missing, changed = [], []
    with open(PROVENANCE_FILE, encoding="utf-8", newline="") as fh:
        recorded = list(csv.DictReader(fh))
    for entry in recorded:
        path = _located(entry["path"])
        if not path.is_file():
            missing.append(str(path))
            continue
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for chunk in iter(lambda h=handle: h.read(1 << 20), b""):
                digest.update(chunk)
        if digest.hexdigest() != entry["sha256"]:
            changed.append(str(path))
    return {
        "shared": str(shared_data_dir()),
        "public": str(public_data_dir()),
        "reference": str(reference_data_dir()),
        "recorded": len(recorded),
        "missing": missing,
        "changed": changed,
    }
