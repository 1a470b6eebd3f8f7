"""The test session's one real refresh, shared by every pytest worker.

    python -m tests.session_refresh ROOT

Runs every asset for every profile country on the bundled data into ROOT (Dagster in-process,
its run recorded in a real instance under ROOT/dagster) and writes ROOT/run.json. A file lock
makes the first caller build it and every other caller wait for it and reuse it, so pytest's
controller can start it in the background while the workers run the tests that do not need it.
"""

from __future__ import annotations

import json
import os
import sys
import traceback
from dataclasses import dataclass
from pathlib import Path

from filelock import FileLock

RUN_FILE = "run.json"


def build(root: Path) -> dict:
    """Build the session's refresh into `root` unless it is there already; its run.json."""
    root.mkdir(parents=True, exist_ok=True)
    done = root / RUN_FILE
    with FileLock(str(root / ".build.lock")):
        if not done.is_file():
            done.write_text(json.dumps(_refresh(root)), encoding="utf-8")
    return json.loads(done.read_text(encoding="utf-8"))


def _refresh(root: Path) -> dict:
    os.environ.setdefault("EMP_LANG", "en")
    try:
        import dagster as dg

        from tests.conftest import refresh

        (root / "dagster").mkdir(exist_ok=True)
        with dg.DagsterInstance.local_temp(str(root / "dagster")) as instance:
            result = refresh(root, instance=instance)
            return {"run_id": result.run_id, "success": result.success, "error": None}
    except Exception:  # noqa: BLE001 - every test that needs the refresh shows why it failed
        return {"run_id": None, "success": False, "error": traceback.format_exc()}


@dataclass(frozen=True)
class RecordedRun:
    """The session's run as Dagster recorded it (read back from its instance), with the
    names of `ExecuteInProcessResult` that the tests use."""

    root: Path
    run_id: str
    success: bool

    def _events(self) -> list:
        import dagster as dg

        with dg.DagsterInstance.local_temp(str(self.root / "dagster")) as instance:
            return [e.dagster_event for e in instance.all_logs(self.run_id) if e.dagster_event]

    def get_asset_materialization_events(self) -> list:
        return [e for e in self._events() if e.event_type_value == "ASSET_MATERIALIZATION"]

    def get_asset_check_evaluations(self) -> list:
        return [
            e.event_specific_data
            for e in self._events()
            if e.event_type_value == "ASSET_CHECK_EVALUATION"
        ]


if __name__ == "__main__":
    outcome = build(Path(sys.argv[1]))
    sys.exit(0 if outcome["run_id"] else 1)
