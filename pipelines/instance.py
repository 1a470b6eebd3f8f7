"""The one Dagster instance `make run` and `make dev` share: $EMP_HOME/dagster (unless
DAGSTER_HOME says otherwise), set up from the shipped pipelines/dagster.yaml."""

from __future__ import annotations

import os
import shutil
from pathlib import Path

SHIPPED_CONFIG = Path(__file__).parent / "dagster.yaml"


def dagster_home(emp_home: Path) -> Path:
    """DAGSTER_HOME if set, else EMP_HOME/dagster; its dagster.yaml is copied from the shipped
    one on first use (a working group's own edits are kept)."""
    home = Path(os.environ.get("DAGSTER_HOME") or Path(emp_home) / "dagster").resolve()
    home.mkdir(parents=True, exist_ok=True)
    config = home / "dagster.yaml"
    if not config.exists():  # written aside and renamed: two processes never see half a file
        staging = home / f".dagster.yaml.{os.getpid()}"
        shutil.copyfile(SHIPPED_CONFIG, staging)
        os.replace(staging, config)
    return home


def use_dagster_home(emp_home: Path) -> Path:
    """Point this process's Dagster runs at the shared instance."""
    home = dagster_home(emp_home)
    os.environ["DAGSTER_HOME"] = str(home)
    return home
