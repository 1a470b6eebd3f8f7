"""The jobs a refresh runs, shared by the workspace (`dagster dev`) and `emp refresh`, so that a
run started from the command line belongs to a job the UI knows and can be re-executed there."""

from __future__ import annotations

import logging
from collections.abc import Callable

import dagster as dg

from pipelines.assets import profile_report, profile_snapshot, public_site

#: the code location of workspace.yaml (and of `[tool.dagster]` in pyproject.toml)
LOCATION_NAME = "emp"
#: the repository Dagster makes of a module's `Definitions`
REPOSITORY_NAME = "__repository__"

REFRESH_JOB = "refresh_profiles"
PUBLISH_JOB = "publish_profile"

STEP_EVENTS = ("STEP_START", "STEP_SUCCESS", "STEP_FAILURE", "STEP_SKIPPED")
#: callback(event type, step key) as each step starts and ends
StepCallback = Callable[[str, str], None]

refresh_job = dg.define_asset_job(
    REFRESH_JOB,
    selection=dg.AssetSelection.all(),
    description="Load every source, rebuild core and indicators, publish a snapshot per country. "
    "`emp refresh` runs the part of it that what changed makes stale.",
)

publish_job = dg.define_asset_job(
    PUBLISH_JOB,
    selection=[profile_snapshot, profile_report, public_site],
    description="One country's snapshot, profile and the public site, from the warehouse as it "
    "is (`emp refresh` runs it for each further country of a partial refresh).",
)


class _StepHandler(logging.Handler):
    def __init__(self, callback: StepCallback) -> None:
        super().__init__(logging.DEBUG)
        self.callback = callback

    def emit(self, record: logging.LogRecord) -> None:
        meta = getattr(record, "dagster_meta", None) or {}
        event = meta.get("dagster_event")
        if event is not None and event.event_type_value in STEP_EVENTS:
            self.callback(event.event_type_value, event.step_key or "")


def progress_logger(callback: StepCallback | None = None) -> dg.LoggerDefinition:
    """A logger that reports each step to `emp refresh` (silent in the UI's runs)."""
    report = callback or (lambda *_: None)

    def build(_init_context) -> logging.Logger:
        logger = logging.Logger("emp-refresh", level=logging.DEBUG)
        logger.addHandler(_StepHandler(report))
        return logger

    return dg.LoggerDefinition(build, description="reports each step to `emp refresh`")


def loggers(callback: StepCallback | None = None) -> dict[str, dg.LoggerDefinition]:
    """The console as usual, and the progress logger runs of `emp refresh` configure."""
    return {"console": dg.colored_console_logger, "progress": progress_logger(callback)}


def workspace_origin(job_name: str):
    """Where the UI finds `job_name`: the workspace's code location, as a run launched from the
    UI records it (what re-execution and the job's run list read)."""
    from dagster._core.remote_origin import (
        RegisteredCodeLocationOrigin,
        RemoteJobOrigin,
        RemoteRepositoryOrigin,
    )

    location = RegisteredCodeLocationOrigin(LOCATION_NAME)
    return RemoteJobOrigin(RemoteRepositoryOrigin(location, REPOSITORY_NAME), job_name)
