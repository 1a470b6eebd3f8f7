"""What a refresh reads, as SHA-256 digests in groups, and the record of the last refresh.

Groups say whom a change concerns:

- `international`: publishers' releases (public folder, inbox/PUBLIC, archive/PUBLIC) and the
  reference data (project registry): every country;
- `national/<ISO3>`: the ministry and statistics-office files of one country, wherever they lie
  (bundled samples, the statistics-office folder, the inbox, archive/ and rejected/);
- `census/<ISO3>`: one country's census microdata;
- `code`: the project's code with the catalogue, bundled specs, codebooks, templates and
  translations beside it (the assets' code version): every country;
- `configuration`: the specs, baseline requests and governance entries a working group keeps
  apart (EMP_SPECS, EMP_BASELINE_REQUESTS, EMP_GOVERNANCE) and the settings that change what is
  published: every country.

A file's group follows its content, not where it lies: a file moved from the inbox to archive/
is the same input. Digests are reused while a file's size and modification time are those
recorded, as git does for its index.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections import defaultdict
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path

from sources.atomic import write_atomically
from sources.data_home import CODEBOOK_DIR, reference_data_dir
from sources.yaml_files import read_yaml

INTERNATIONAL = "international"
CODE = "code"
CONFIGURATION = "configuration"
PROJECT_ROOT = Path(__file__).resolve().parents[1]
#: the project's own folders whose files decide what a refresh publishes
CODE_FOLDERS = ("sources", "warehouse", "indicators", "pipelines")
_SKIPPED_PARTS = {"__pycache__", "data"}  # sources/data holds inputs, grouped by country
#: settings that change what is published
PUBLISHING_SETTINGS = (
    "EMP_SDC_THRESHOLD",
    "EMP_SDC_ALLOW_LOW",
    "EMP_CENSUS_PERSONS",
    "EMP_GOVERNANCE",
    "EMP_COUNTRIES",
)
STATE_SUFFIX = ".refresh.json"


def national_group(country: str) -> str:
    return f"national/{country}"


def census_group(country: str) -> str:
    return f"census/{country}"


@dataclass
class Fingerprint:
    """Each group's digest, and the digest of every file read (path -> [size, mtime_ns, sha])."""

    groups: dict[str, str] = field(default_factory=dict)
    files: dict[str, list] = field(default_factory=dict)

    @property
    def configuration_digest(self) -> str:
        """Code and configuration together: what a report built from a snapshot depends on."""
        text = f"{self.groups.get(CODE, '')}:{self.groups.get(CONFIGURATION, '')}"
        return hashlib.sha256(text.encode()).hexdigest()[:16]

    def changed(self, before: dict[str, str]) -> list[str]:
        """Groups added, removed or changed since `before`."""
        names = set(self.groups) | set(before)
        return sorted(n for n in names if self.groups.get(n) != before.get(n))


def affected_countries(changed: list[str], countries: list[str]) -> list[str]:
    """The countries whose profile a change may alter, in `countries` order."""
    if any(not g.startswith(("national/", "census/")) for g in changed):
        return list(countries)
    touched = {g.split("/", 1)[1] for g in changed}
    if "*" in touched:  # a file covering many reporting countries
        return list(countries)
    return [c for c in countries if c in touched]


class _Hasher:
    def __init__(self, known: dict[str, list]) -> None:
        self.known = known
        self.files: dict[str, list] = {}

    def sha(self, path: Path) -> str:
        stat = path.stat()
        key = str(path)
        seen = self.known.get(key)
        if seen and seen[0] == stat.st_size and seen[1] == stat.st_mtime_ns:
            digest = seen[2]
        else:
            digest = file_sha256(path)
        self.files[key] = [stat.st_size, stat.st_mtime_ns, digest]
        return digest


def file_sha256(path: Path) -> str:
    """SHA-256 of a file's bytes, read in blocks."""
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _visible_files(folder: Path) -> list[Path]:
    if not folder.is_dir():
        return []
    found = []
    for path in sorted(folder.rglob("*")):
        relative = path.relative_to(folder).parts
        if any(p.startswith((".", "~$")) or p in _SKIPPED_PARTS for p in relative[:-1]):
            continue
        if relative[-1].startswith((".", "~$")) or relative[-1].endswith(".pyc"):
            continue
        if path.is_file() and not path.is_symlink():
            found.append(path)
    return found


def _notes(path: Path) -> bool:
    """The notes EMP writes beside a file it moved aside: not inputs."""
    return path.name.endswith((".report.json", ".reason.txt"))


def _ministry_countries(specs: dict | None, folder: Path) -> dict[str, str]:
    """Ministry folder -> the country its specs report for (`*` when several or many). Without
    `specs`, read from the spec files' `ministry` and `country` alone (no validation: a broken
    spec is a change of the configuration anyway)."""
    pairs = []
    if specs is not None:
        pairs = [(spec.ministry, spec.country) for spec in specs.values()]
    else:
        for path in sorted(Path(folder).glob("*/*.yaml")):
            try:
                document = read_yaml(path)
            except Exception:  # noqa: BLE001 - unreadable: its dataset is held back anyway
                continue
            if isinstance(document, dict) and document.get("ministry"):
                pairs.append((str(document["ministry"]), str(document.get("country") or "*")))
    by_ministry: dict[str, set[str]] = defaultdict(set)
    for ministry, country in pairs:
        by_ministry[ministry].add(country)
    return {m: (c.pop() if len(c) == 1 else "*") for m, c in by_ministry.items()}


def _codebook_countries() -> dict[str, str]:
    """Census codebook id -> its country, from the codebook files."""
    found = {}
    for path in sorted(CODEBOOK_DIR.glob("*.yaml")):
        document = read_yaml(path)
        if isinstance(document, dict) and document.get("id"):
            found[str(document["id"])] = str(document.get("country") or "*")
    return found


def take_fingerprint(
    settings, specs: dict | None = None, known: dict[str, list] | None = None
) -> Fingerprint:
    """Digest every input of a refresh under `settings`, grouped by whom it concerns."""
    from sources.inbox import PUBLIC_FOLDER

    hasher = _Hasher(known or {})
    contents: dict[str, list[str]] = defaultdict(list)
    home = Path(settings.inbox).parent
    ministries = _ministry_countries(specs, Path(settings.specs))

    public = [Path(settings.public_data), home / "archive" / PUBLIC_FOLDER]
    public += [Path(settings.inbox) / PUBLIC_FOLDER, reference_data_dir()]
    for folder in public:
        for path in _visible_files(folder):
            if not _notes(path) and path.suffix.lower() not in (".md", ".txt", ".pdf"):
                contents[INTERNATIONAL].append(hasher.sha(path))

    national = [Path(settings.national_data), Path(settings.inbox)]
    national += [home / "archive", home / "rejected"]
    if settings.national_statistics:
        national.append(Path(settings.national_statistics))
    for folder in national:
        if not folder.is_dir():
            continue
        for ministry_dir in sorted(p for p in folder.iterdir() if p.name != PUBLIC_FOLDER):
            files = _visible_files(ministry_dir) if ministry_dir.is_dir() else [ministry_dir]
            country = ministries.get(ministry_dir.name, "*")
            for path in files:
                if path.is_file() and not _notes(path) and not path.name.endswith(".md"):
                    contents[national_group(country)].append(hasher.sha(path))

    for codebook, country in _codebook_countries().items():
        for path in _visible_files(census_sources(settings) / codebook):
            contents[census_group(country)].append(hasher.sha(path))

    for path in _code_files():
        contents[CODE].append(f"{path.relative_to(PROJECT_ROOT)}:{hasher.sha(path)}")
    for folder in (Path(settings.specs), Path(settings.baseline_requests)):
        for path in _visible_files(folder):
            contents[CONFIGURATION].append(f"{path.name}:{hasher.sha(path)}")
    governance = os.environ.get("EMP_GOVERNANCE")
    if governance and Path(governance).is_dir():
        for path in _visible_files(Path(governance)):
            contents[CONFIGURATION].append(f"{path.name}:{hasher.sha(path)}")
    contents[CONFIGURATION] += [f"{k}={os.environ.get(k, '')}" for k in PUBLISHING_SETTINGS]

    groups = {
        # a set of contents: order and place do not matter, a duplicate copy does not count
        name: hashlib.sha256("\n".join(sorted(set(items))).encode()).hexdigest()
        for name, items in contents.items()
    }
    return Fingerprint(groups, hasher.files)


def census_sources(settings) -> Path:
    """Where the census microdata files lie (EMP_HOME/census/source/<codebook>/)."""
    return Path(settings.snapshots).parent / "census" / "source"


def _code_files() -> list[Path]:
    return [p for name in CODE_FOLDERS for p in _visible_files(PROJECT_ROOT / name)]


@cache
def code_version() -> str:
    """The digest of the project's code and of the data beside it (catalogue, bundled specs,
    codebooks, templates, translations): every asset's code version."""
    digest = hashlib.sha256()
    for path in _code_files():
        digest.update(f"{path.relative_to(PROJECT_ROOT)}:{file_sha256(path)}\n".encode())
    return digest.hexdigest()[:16]


def state_path(settings) -> Path:
    """The record of the last refresh, beside the warehouse it describes."""
    return Path(f"{settings.database}{STATE_SUFFIX}")


def last_refresh(settings) -> dict | None:
    """What the last complete refresh read and published, or None."""
    path = state_path(settings)
    try:
        state = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(state, dict) or not Path(settings.database).exists():
        return None
    shapes = {"groups": dict, "files": dict, "outcome": dict}
    if any(not isinstance(state.get(k), kind) for k, kind in shapes.items()):
        return None  # a record edited or cut short: the next refresh does everything
    snapshots = state["outcome"].get("snapshots")
    if not isinstance(snapshots, dict) or not all(
        isinstance(s, dict) and isinstance(s.get("path"), str) for s in snapshots.values()
    ):
        return None
    return state


def record_refresh(settings, fingerprint: Fingerprint, outcome: dict) -> None:
    """Keep what this refresh read and what it published, for the next one to compare."""
    from publish.snapshot_check import manifest_sha256
    from publish.snapshot_index import MANIFEST_FILE

    snapshots = {
        country: {**snap, "manifest_sha256": manifest_sha256(snap["path"])}
        if Path(snap["path"], MANIFEST_FILE).is_file()
        else snap
        for country, snap in (outcome.get("snapshots") or {}).items()
        if snap.get("path")
    }
    outcome = {**outcome, "snapshots": snapshots}
    state = {"groups": fingerprint.groups, "files": fingerprint.files, "outcome": outcome}
    write_atomically(state_path(settings), json.dumps(state, ensure_ascii=False))


def forget_refresh(settings) -> None:
    state_path(settings).unlink(missing_ok=True)


@dataclass
class RefreshPlan:
    """What a refresh has to do: the countries to publish, and those it skips because nothing
    they rest on changed since the last complete refresh."""

    fingerprint: Fingerprint
    changed: list[str]
    publish: list[str]
    skipped: list[str]
    previous: dict | None

    @property
    def nothing_changed(self) -> bool:
        return self.previous is not None and not self.changed


def plan_refresh(
    settings, countries: list[str], specs: dict | None = None, force: bool = False
) -> RefreshPlan:
    """Compare the inputs with the last complete refresh. With `force`, or with no record of
    one, every country is published."""
    state = None if force else last_refresh(settings)
    if state is not None and not _published_still_there(state, countries):
        state = None
    known = (state or {}).get("files") or {}
    fingerprint = take_fingerprint(settings, specs, known)
    if state is None:
        return RefreshPlan(fingerprint, sorted(fingerprint.groups), list(countries), [], None)
    changed = fingerprint.changed(state.get("groups") or {})
    publish = affected_countries(changed, list(countries)) if changed else []
    skipped = [c for c in countries if c not in publish]
    return RefreshPlan(fingerprint, changed, publish, skipped, state)


def _published_still_there(state: dict, countries: list[str]) -> bool:
    """The last refresh covered these countries and its snapshots are still in place, as it
    published them (the manifest it recorded, every file as that manifest lists it)."""
    from publish.snapshot_check import intact

    snapshots = (state.get("outcome") or {}).get("snapshots") or {}
    return all(
        c in snapshots and intact(snapshots[c]["path"], snapshots[c].get("manifest_sha256"))
        for c in countries
    )
