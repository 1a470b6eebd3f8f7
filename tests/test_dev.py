"""`make dev` stops with every process it started: on SIGTERM sent to make, and on Ctrl-C (an
interrupt to the terminal's process group)."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import time
from pathlib import Path

import httpx
import pytest

from pipelines.dev import descendants

ROOT = Path(__file__).resolve().parents[1]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    try:  # a zombie waiting for its parent to read it is gone for our purpose
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def _start(tmp_path: Path) -> tuple[subprocess.Popen, int, list[int]]:
    port = _free_port()
    env = {**os.environ, "EMP_HOME": str(tmp_path), "DAGSTER_DEV_ARGS": f"-p {port}"}
    make = subprocess.Popen(
        ["make", "--no-print-directory", "dev"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,  # its own process group, as a terminal gives a command
    )
    deadline = time.monotonic() + 240
    while time.monotonic() < deadline:
        try:
            if httpx.get(f"http://127.0.0.1:{port}/server_info", timeout=2).status_code == 200:
                break
        except httpx.HTTPError:
            time.sleep(1)
    else:
        make.kill()
        pytest.fail("the Dagster UI did not answer within 4 minutes")
    below = descendants(make.pid)
    assert len(below) >= 4  # the launcher, dagster dev, the webserver, the daemon (code servers)
    return make, port, below


def _all_gone(pids: list[int], seconds: float = 60) -> list[int]:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline and any(map(_alive, pids)):
        time.sleep(0.5)
    return [p for p in pids if _alive(p)]


@pytest.mark.slow
def test_make_dev_stops_with_all_its_processes_on_sigterm_and_on_ctrl_c(tmp_path):
    make, port, below = _start(tmp_path / "term")
    make.send_signal(signal.SIGTERM)
    assert _all_gone([make.pid, *below]) == []
    make.wait(timeout=10)
    with socket.socket() as s:  # the port is free again
        s.bind(("127.0.0.1", port))

    make, port, below = _start(tmp_path / "int")
    os.killpg(make.pid, signal.SIGINT)  # what Ctrl-C in the terminal sends
    assert _all_gone([make.pid, *below]) == []
    make.wait(timeout=10)
