"""The warehouse as a Dagster resource: one DuckDB file, the snapshot folder, the input folder."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
from dagster import ConfigurableResource

from indicators.baselines import REQUESTS_DIR
from sources.specs import SPECS_DIR, SourceSpec, SpecSet, spec_set
from warehouse.db import connect
from warehouse.settings import Settings, check_sdc_threshold


class WarehouseResource(ConfigurableResource):
    """Paths come from EMP_HOME, EMP_DUCKDB, EMP_SNAPSHOTS, EMP_PUBLIC_DATA, EMP_NATIONAL_DATA
    and EMP_INBOX by default (see warehouse/settings.py)."""

    database: str
    snapshots_dir: str
    public_data_dir: str
    national_data_dir: str
    national_statistics_dir: str = ""  # real statistics-office files, read where they lie
    inbox_dir: str
    specs_dir: str = str(SPECS_DIR)
    baseline_requests_dir: str = str(REQUESTS_DIR)  # registered baseline requests (YAML)
    census_persons: int = 20_000  # size of each synthetic sample census (EMP_CENSUS_PERSONS)
    sdc_threshold: int = 10  # smallest publishable census cell (EMP_SDC_THRESHOLD)
    sdc_allow_low: bool = False  # a threshold below 3 on purpose (EMP_SDC_ALLOW_LOW)
    settle_seconds: float = 2.0  # an inbox file must be this old and still (EMP_INBOX_SETTLE)
    census_engine: str = "duckdb"  # or spark: census indicators as a Spark job (EMP_CENSUS_ENGINE)
    spark_master: str = "local[2]"  # where spark-submit sends that job (EMP_SPARK_MASTER)
    lock_wait_seconds: float = 120.0

    @classmethod
    def from_settings(cls, settings: Settings) -> WarehouseResource:
        return cls(
            database=str(settings.database),
            snapshots_dir=str(settings.snapshots),
            public_data_dir=str(settings.public_data),
            national_data_dir=str(settings.national_data),
            national_statistics_dir=str(settings.national_statistics),
            inbox_dir=str(settings.inbox),
            specs_dir=str(settings.specs),
            baseline_requests_dir=str(settings.baseline_requests),
            census_persons=settings.census_persons,
            sdc_threshold=settings.sdc_threshold,
            sdc_allow_low=settings.sdc_allow_low,
            settle_seconds=settings.settle_seconds,
            lock_wait_seconds=settings.lock_wait_seconds,
            census_engine=settings.census_engine,
            spark_master=settings.spark_master,
        )

    @property
    def spec_set(self) -> SpecSet:
        """The source specs (EMP_SPECS, default the bundled sources/specs), with those held
        back."""
        return spec_set(self.specs_dir)

    @property
    def specs(self) -> dict[str, SourceSpec]:
        """The source specs in force."""
        return self.spec_set.specs

    @property
    def disclosure(self) -> dict:
        """The disclosure control in force, checked (SettingsError if unsafe), for manifests."""
        threshold = check_sdc_threshold(self.sdc_threshold, self.sdc_allow_low)
        return {
            "threshold": threshold,
            "low_threshold_override": self.sdc_allow_low,
            "rule": f"census cells on 1 to {threshold - 1} unweighted records are suppressed "
            "(primary), and the cells that would give them away (secondary)",
            "method": "singleton rule and linear audit over every additive relation "
            "(indicators/disclosure.py)",
        }

    @property
    def inbox(self) -> Path:
        return Path(self.inbox_dir)

    @property
    def settings(self) -> Settings:
        """The settings these paths stand for (what the input fingerprints read)."""
        return Settings(
            home=Path(self.snapshots_dir).parent,
            database=Path(self.database),
            snapshots=Path(self.snapshots_dir),
            public_data=Path(self.public_data_dir),
            national_data=Path(self.national_data_dir),
            national_statistics=Path(self.national_statistics_dir)
            if self.national_statistics_dir
            else None,
            specs=Path(self.specs_dir),
            baseline_requests=Path(self.baseline_requests_dir),
            inbox=self.inbox,
            census_persons=self.census_persons,
            sdc_threshold=self.sdc_threshold,
            sdc_allow_low=self.sdc_allow_low,
            census_engine=self.census_engine,
            spark_master=self.spark_master,
        )

    @property
    def census(self) -> Path:
        """Census Parquet (partitioned by country and round) and the sample sources."""
        return Path(self.snapshots_dir).parent / "census"

    @property
    def reports(self) -> Path:
        """Validation reports: beside the snapshots, under EMP_HOME/reports."""
        return Path(self.snapshots_dir).parent / "reports"

    @property
    def archive(self) -> Path:
        return self.inbox.parent / "archive"

    @property
    def rejected(self) -> Path:
        return self.inbox.parent / "rejected"

    @contextmanager
    def connect(self, read_only: bool = False) -> Iterator[duckdb.DuckDBPyConnection]:
        """The warehouse, waiting up to lock_wait_seconds for a writer; `read_only` lets
        several processes read at once (per-country publishing)."""
        with connect(
            Path(self.database), wait_seconds=self.lock_wait_seconds, read_only=read_only
        ) as con:
            yield con
