"""Where EMP reads and writes, from environment variables with local defaults."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

from indicators.baselines import REQUESTS_DIR
from sources.data_home import public_data_dir
from sources.samples import NATIONAL_DATA_DIR
from sources.specs import SPECS_DIR

DEFAULT_COUNTRIES = ("GEO", "MAR", "MDA", "PHL")


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


@dataclass(frozen=True)
class Settings:
    """EMP_HOME (default ./var) holds the warehouse, the snapshots and the inbox (with its
    archive/ and rejected/ folders beside it) unless they are set apart."""

    home: Path = field(default_factory=lambda: _path("EMP_HOME", Path.cwd() / "var"))
    database: Path | None = None
    snapshots: Path | None = None
    public_data: Path | None = None
    national_data: Path | None = None
    specs: Path | None = None
    baseline_requests: Path | None = None
    inbox: Path | None = None
    countries: tuple[str, ...] = ()
    census_persons: int = 20_000
    sdc_threshold: int = 10
    lock_wait_seconds: float = 0.0

    @property
    def archive(self) -> Path:
        """Inbox files that were loaded, each with its batch report."""
        return Path(self.inbox).parent / "archive"

    @property
    def rejected(self) -> Path:
        """Inbox files that could not be loaded, each with the reason."""
        return Path(self.inbox).parent / "rejected"

    @classmethod
    def from_env(cls) -> Settings:
        home = _path("EMP_HOME", Path.cwd() / "var")
        countries = os.environ.get("EMP_COUNTRIES", ",".join(DEFAULT_COUNTRIES))
        return cls(
            home=home,
            database=_path("EMP_DUCKDB", home / "emp.duckdb"),
            snapshots=_path("EMP_SNAPSHOTS", home / "snapshots"),
            public_data=public_data_dir(),
            national_data=_path("EMP_NATIONAL_DATA", NATIONAL_DATA_DIR),
            specs=_path("EMP_SPECS", SPECS_DIR),
            baseline_requests=_path("EMP_BASELINE_REQUESTS", REQUESTS_DIR),
            inbox=_path("EMP_INBOX", home / "inbox"),
            countries=tuple(c.strip().upper() for c in countries.split(",") if c.strip()),
            lock_wait_seconds=float(os.environ.get("EMP_LOCK_WAIT", "120")),
            census_persons=int(os.environ.get("EMP_CENSUS_PERSONS", "20000")),
            sdc_threshold=int(os.environ.get("EMP_SDC_THRESHOLD", "10")),
        )
