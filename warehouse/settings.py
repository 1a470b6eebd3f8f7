"""Where EMP reads and writes, and how it behaves, from environment variables with local
defaults. Every setting is checked on start; a wrong one stops with a message naming it."""

from __future__ import annotations

import math
import os
import re
from dataclasses import dataclass, field
from pathlib import Path

from sources.data_home import BASELINE_REQUESTS_DIR as REQUESTS_DIR
from sources.data_home import (
    NATIONAL_DATA_DIR,
    SPECS_DIR,
    national_statistics_dir,
    public_data_dir,
)

DEFAULT_COUNTRIES = ("GEO", "MAR", "MDA", "PHL")
#: Below this many unweighted records a census cell is too small to publish safely; a lower
#: threshold needs EMP_SDC_ALLOW_LOW=1.
MIN_SAFE_SDC_THRESHOLD = 3
TRUE_WORDS = {"1", "true", "yes", "on"}


class SettingsError(ValueError):
    """A setting has a value EMP cannot use; the message names the setting and what it takes."""


def _path(name: str, default: Path) -> Path:
    value = os.environ.get(name)
    return Path(value).expanduser().resolve() if value else default


def _integer(name: str, default: int, minimum: int | None = None) -> int:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = int(raw)
    except ValueError:
        raise SettingsError(f"{name}={raw!r} is not a whole number (default {default})") from None
    if minimum is not None and value < minimum:
        raise SettingsError(f"{name}={raw!r} is below {minimum} (default {default})")
    return value


def _seconds(name: str, default: float) -> float:
    raw = os.environ.get(name, "").strip()
    if not raw:
        return default
    try:
        value = float(raw)
    except ValueError:
        value = math.nan
    if not math.isfinite(value) or value < 0:
        raise SettingsError(
            f"{name}={raw!r} is not a number of seconds (e.g. 120; default {default:g})"
        )
    return value


def check_memory(raw: str) -> str:
    """A memory size as DuckDB reads it: 512MB, 2GB, 1.5GiB."""
    if raw and not re.fullmatch(r"\d+(\.\d+)?\s*(KB|MB|GB|TB|KiB|MiB|GiB|TiB)", raw.strip()):
        raise SettingsError(
            f"EMP_DUCKDB_MEMORY={raw!r} is not a memory size (e.g. 400MB or 8GB; default 400MB)"
        )
    return raw.strip()


CENSUS_ENGINES = ("duckdb", "spark")


def check_census_engine(raw: str) -> str:
    """duckdb (embedded, the default) or spark (a Spark job launched through Dagster Pipes)."""
    engine = (raw or "duckdb").strip().lower()
    if engine not in CENSUS_ENGINES:
        raise SettingsError(
            f"EMP_CENSUS_ENGINE={raw!r}: the census engine is one of {', '.join(CENSUS_ENGINES)} "
            "(default duckdb)"
        )
    return engine


def _flag(name: str) -> bool:
    return os.environ.get(name, "").strip().lower() in TRUE_WORDS


def check_sdc_threshold(threshold: int, allow_low: bool) -> int:
    """A positive whole number; below MIN_SAFE_SDC_THRESHOLD only with the explicit override."""
    if isinstance(threshold, bool) or not isinstance(threshold, int) or threshold < 1:
        raise SettingsError(
            f"EMP_SDC_THRESHOLD={threshold!r}: the disclosure threshold is a positive whole "
            "number of unweighted records (default 10)"
        )
    if threshold < MIN_SAFE_SDC_THRESHOLD and not allow_low:
        raise SettingsError(
            f"EMP_SDC_THRESHOLD={threshold}: a threshold below {MIN_SAFE_SDC_THRESHOLD} "
            "publishes census cells of one or two persons; set EMP_SDC_ALLOW_LOW=1 to do so "
            "on purpose"
        )
    return threshold


def check_countries(raw: str) -> tuple[str, ...]:
    """Comma-separated ISO 3166-1 alpha-3 codes of countries."""
    import pycountry

    codes = tuple(dict.fromkeys(c.strip().upper() for c in raw.split(",") if c.strip()))
    if not codes:
        raise SettingsError(f"EMP_COUNTRIES={raw!r} names no country (e.g. GEO,MAR,MDA,PHL)")
    unknown = [c for c in codes if pycountry.countries.get(alpha_3=c) is None]
    if unknown:
        raise SettingsError(
            f"EMP_COUNTRIES: {', '.join(unknown)} is not an ISO 3166-1 alpha-3 country code "
            "(e.g. MAR for Morocco, MDA for Moldova)"
        )
    return codes


@dataclass(frozen=True)
class Settings:
    """EMP_HOME (default ./var) holds the warehouse, the snapshots and the inbox (with its
    archive/ and rejected/ folders beside it) unless they are set apart."""

    home: Path = field(default_factory=lambda: _path("EMP_HOME", Path.cwd() / "var"))
    database: Path | None = None
    snapshots: Path | None = None
    public_data: Path | None = None
    national_data: Path | None = None
    national_statistics: Path | None = None
    specs: Path | None = None
    baseline_requests: Path | None = None
    inbox: Path | None = None
    countries: tuple[str, ...] = ()
    census_persons: int = 20_000
    sdc_threshold: int = 10
    sdc_allow_low: bool = False
    lock_wait_seconds: float = 0.0
    settle_seconds: float = 2.0
    census_engine: str = "duckdb"
    spark_master: str = "local[2]"

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
        """The settings in force; raises SettingsError naming the first wrong one."""
        home = _path("EMP_HOME", Path.cwd() / "var")
        allow_low = _flag("EMP_SDC_ALLOW_LOW")
        check_memory(os.environ.get("EMP_DUCKDB_MEMORY", ""))
        return cls(
            home=home,
            database=_path("EMP_DUCKDB", home / "emp.duckdb"),
            snapshots=_path("EMP_SNAPSHOTS", home / "snapshots"),
            public_data=public_data_dir(),
            national_data=_path("EMP_NATIONAL_DATA", NATIONAL_DATA_DIR),
            national_statistics=national_statistics_dir(),
            specs=_path("EMP_SPECS", SPECS_DIR),
            baseline_requests=_path("EMP_BASELINE_REQUESTS", REQUESTS_DIR),
            inbox=_path("EMP_INBOX", home / "inbox"),
            countries=check_countries(os.environ.get("EMP_COUNTRIES", ",".join(DEFAULT_COUNTRIES))),
            lock_wait_seconds=_seconds("EMP_LOCK_WAIT", 120.0),
            settle_seconds=_seconds("EMP_INBOX_SETTLE", 2.0),
            census_persons=_integer("EMP_CENSUS_PERSONS", 20_000, 100),
            sdc_threshold=check_sdc_threshold(_integer("EMP_SDC_THRESHOLD", 10), allow_low),
            sdc_allow_low=allow_low,
            census_engine=check_census_engine(os.environ.get("EMP_CENSUS_ENGINE", "")),
            spark_master=os.environ.get("EMP_SPARK_MASTER", "").strip() or "local[2]",
        )
