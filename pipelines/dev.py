"""`make dev`: the Dagster UI (`dagster dev`) over EMP's instance, stopped cleanly with every
process it started, on Ctrl-C, on SIGTERM, or when the shell or `make` that started it goes.

`dagster dev` starts a webserver, a daemon and code servers. It shuts them down on Ctrl-C but
not on SIGTERM, and a process it leaves behind keeps the port and the instance's SQLite files.
This launcher turns SIGTERM into the interrupt `dagster dev` understands, waits for it, and ends
whatever is still running below it."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

#: seconds `dagster dev` gets to stop its processes before they are ended
GRACE_SECONDS = 20.0


def descendants(pid: int) -> list[int]:
    """Every process below `pid` (from /proc), children first."""
    parents: dict[int, list[int]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        # the command name may hold spaces and parentheses: the fields follow the last ")"
        ppid = int(stat.rsplit(")", 1)[1].split()[1])
        parents.setdefault(ppid, []).append(int(entry.name))
    found, todo = [], [pid]
    while todo:
        for child in parents.get(todo.pop(), []):
            found.append(child)
            todo.append(child)
    return found


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def stop(child: subprocess.Popen, grace: float = GRACE_SECONDS) -> list[int]:
    """Interrupt `dagster dev` and wait; end what is left (SIGTERM, then SIGKILL). Returns the
    processes that had to be ended."""
    below = descendants(child.pid)
    if child.poll() is None:
        child.send_signal(signal.SIGINT)
    deadline = time.monotonic() + grace
    while time.monotonic() < deadline and (child.poll() is None or any(map(_alive, below))):
        time.sleep(0.2)
    left = [p for p in [*below, child.pid] if _alive(p)]
    for sig in (signal.SIGTERM, signal.SIGKILL):
        for pid in left:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, sig)
        time.sleep(1.0)
        left = [p for p in left if _alive(p)]
    child.poll()
    return left


def main(argv: list[str] | None = None) -> int:
    args = ["dagster", "dev", "-w", "workspace.yaml", *(argv if argv is not None else sys.argv[1:])]
    stopping = threading.Event()

    def request_stop(*_):
        stopping.set()

    # set before starting: a handled signal is the default again in the child, so `dagster dev`
    # gets its Ctrl-C even when this launcher was started with SIGINT ignored
    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)
    signal.signal(signal.SIGHUP, request_stop)
    bin_dir = Path(sys.executable).parent
    env = {**os.environ, "PATH": f"{bin_dir}{os.pathsep}{os.environ.get('PATH', '')}"}
    child = subprocess.Popen(args, env=env)
    parent = os.getppid()
    while not stopping.is_set() and child.poll() is None:
        if os.getppid() != parent:  # the shell or make that started us is gone
            break
        stopping.wait(0.5)
    stop(child)
    print("dagster dev stopped, with every process it started", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
