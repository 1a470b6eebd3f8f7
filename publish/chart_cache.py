"""Drawn charts kept between refreshes: drawing a chart with vl-convert takes 25-50 ms and is most
of the time a profile's page takes to build, while most charts of a new edition, or of an edition
built again under a new configuration, are the ones drawn before. A chart is kept under the hash
of everything that decides its drawing (what it shows with its words and numbers, the number
style, the code that makes its specification, and the Altair and vl-convert versions), so a kept
drawing is never shown for a chart that would be drawn differently. Kept in the reports folder
the refresh writes (`EMP_HOME/reports/chart-cache/`); a chart not used for `KEPT_DAYS` is removed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path

import altair
import vl_convert

from sources.atomic import write_atomically

#: the folder inside the reports folder
CACHE_FOLDER = "chart-cache"
#: a drawing not read or written for this many days is removed by `prune`
KEPT_DAYS = 30
#: the code that turns what a chart shows into its drawing: a change to either draws anew
CHART_CODE = (Path(__file__).with_name("charts.py"), Path(__file__))


def chart_cache(reports_dir: Path | None) -> Path | None:
    """Where the charts of the profiles in `reports_dir` are kept (None: not kept)."""
    return Path(reports_dir) / CACHE_FOLDER if reports_dir is not None else None


@lru_cache(maxsize=1)
def _tools() -> str:
    """The chart code's text and the versions of the libraries that draw."""
    code = "".join(path.read_text(encoding="utf-8") for path in CHART_CODE)
    return f"{altair.__version__} {vl_convert.__version__} {code}"


def chart_key(shown: object) -> str:
    """The hash naming a drawing: what it shows (JSON-like), and what draws it."""
    text = json.dumps([shown, _tools()], sort_keys=True, ensure_ascii=False, default=str)
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def kept_or_drawn(folder: Path | None, key: str, draw: Callable[[], str]) -> str:
    """The drawing kept under `key` in `folder`, else `draw()` (kept there for next time). A
    folder that cannot be written only means the chart is drawn again next time."""
    if folder is None:
        return draw()
    path = folder / key[:2] / f"{key}.svg"
    try:
        svg = path.read_text(encoding="utf-8")
    except (FileNotFoundError, UnicodeDecodeError):
        pass
    except OSError:
        return draw()
    else:
        if svg.startswith("<svg "):
            with contextlib.suppress(OSError):
                os.utime(path)  # used: kept another KEPT_DAYS
            return svg
    svg = draw()
    with contextlib.suppress(OSError):
        write_atomically(path, svg)
    return svg


def prune(folder: Path | None, days: int = KEPT_DAYS) -> int:
    """Remove the drawings not used for `days`; returns how many went."""
    if folder is None or not folder.is_dir():
        return 0
    oldest = time.time() - days * 86400
    removed = 0
    for path in folder.glob("*/*.svg"):
        try:
            if path.stat().st_mtime < oldest:
                path.unlink()
                removed += 1
        except FileNotFoundError:
            continue
    return removed
