"""Work side by side in worker processes, one per core: the report step and the site both
render independent pieces (an edition in one language, one language of the site)."""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from typing import Any


def map_in_processes(
    function: Callable[[Any], Any], jobs: list, workers: int | None = None
) -> list:
    """`function` over `jobs` in spawned worker processes (no inherited locks, open warehouse
    or open files), one per core; in this process when one worker would do."""
    workers = min(len(jobs), workers or os.cpu_count() or 1)
    if workers <= 1:
        return [function(job) for job in jobs]
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=workers, mp_context=context) as pool:
        return list(pool.map(function, jobs))
