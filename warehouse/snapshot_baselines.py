"""Baselines read back from published snapshots alone (no warehouse): what `emp baseline` serves.

A snapshot folder holds the baselines that were built with it, so the same command gives the same
baseline next year, even after the sources were revised and the profile refreshed.
"""

from __future__ import annotations

import io
import json
from datetime import date, datetime
from pathlib import Path

import pandas as pd

from indicators.baselines import BaselineRequest, baselines, did_panel, reconcile
from warehouse.safe_output import neutralise_formulas
from warehouse.snapshots import BASELINE_FILES, INDICATORS_FILE, list_snapshots

TABLES = {"baselines": "baselines", "panel": "panel", "reconciliation": "reconciliation"}
FORMATS = ("csv", "parquet", "json")


class BaselineNotFoundError(LookupError):
    """No snapshot, or no baseline for the project in the snapshot chosen."""


def _requests(folder: Path) -> pd.DataFrame:
    path = folder / BASELINE_FILES["requests"]
    return pd.read_parquet(path) if path.exists() else pd.DataFrame()


def choose_snapshot(
    snapshots_dir: Path,
    project: str,
    version: str | None = None,
    as_of: date | None = None,
    country: str | None = None,
) -> dict:
    """The snapshot that answers for `project`: the version named, or the latest published on or
    before `as_of`, or the latest; among the countries whose snapshots know the project."""
    published = list_snapshots(snapshots_dir, country)
    if not published:
        raise BaselineNotFoundError(f"no snapshot under {snapshots_dir}")
    if version:
        published = [s for s in published if s["version"] == version]
        if not published:
            raise BaselineNotFoundError(f"no snapshot version {version} under {snapshots_dir}")
    if as_of:
        published = [
            s for s in published if datetime.fromisoformat(s["created_at"][:10]).date() <= as_of
        ]
        if not published:
            raise BaselineNotFoundError(f"no snapshot published on or before {as_of}")
    knowing = [s for s in published if _knows(Path(s["path"]), project)]
    if not knowing:
        if country:  # an ad-hoc request: the country's latest snapshot answers
            return max(published, key=lambda s: (s["created_at"], s["version"]))
        raise BaselineNotFoundError(
            f"no baseline for {project!r} in the snapshots chosen "
            f"({len(published)} looked at); register a request or pass --request FILE"
        )
    return max(knowing, key=lambda s: (s["created_at"], s["version"]))


def _knows(folder: Path, project: str) -> bool:
    requests = _requests(folder)
    return not requests.empty and (
        (requests["request_id"] == project).any() or (requests["project"] == project).any()
    )


def frozen_tables(folder: Path, project: str) -> dict[str, pd.DataFrame]:
    """The baseline, panel and reconciliation the snapshot froze for `project`."""
    requests = _requests(folder)
    ids = set(
        requests.loc[
            (requests["request_id"] == project) | (requests["project"] == project), "request_id"
        ]
    )
    out = {}
    for key in TABLES:
        path = folder / BASELINE_FILES[key]
        frame = pd.read_parquet(path) if path.exists() else pd.DataFrame()
        out[key] = (
            frame[frame["request_id"].isin(ids)].reset_index(drop=True) if len(frame) else frame
        )
    return out


def tables_for_request(folder: Path, request: BaselineRequest) -> dict[str, pd.DataFrame]:
    """An ad-hoc request answered from the snapshot's indicators (read-only)."""
    indicators = pd.read_parquet(folder / INDICATORS_FILE)
    version = folder.name
    return {
        "baselines": baselines(indicators, request).assign(snapshot_version=version),
        "panel": did_panel(indicators, request).assign(snapshot_version=version),
        "reconciliation": reconcile(indicators, request).assign(snapshot_version=version),
    }


def _plain(frame: pd.DataFrame) -> pd.DataFrame:
    """Lists as `a; b` and dates as ISO text, for CSV."""
    frame = frame.copy()
    for column in frame.columns:
        values = frame[column].dropna()
        if (
            len(values)
            and hasattr(values.iloc[0], "__len__")
            and not isinstance(values.iloc[0], str)
        ):
            frame[column] = frame[column].map(
                lambda v: "; ".join(map(str, v)) if v is not None and not _missing(v) else None
            )
    return frame


def _missing(value) -> bool:
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def render(frame: pd.DataFrame, fmt: str) -> bytes:
    """The table as CSV, Parquet or JSON (records) bytes."""
    if fmt == "csv":
        return neutralise_formulas(_plain(frame)).to_csv(index=False).encode("utf-8")
    if fmt == "json":
        records = json.loads(frame.to_json(orient="records", date_format="iso"))
        return (json.dumps(records, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    if fmt == "parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return buffer.getvalue()
    raise ValueError(f"format {fmt!r}: use one of {', '.join(FORMATS)}")
