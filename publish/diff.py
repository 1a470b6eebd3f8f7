"""What changed between two snapshot versions: indicators added, removed, revised by a new
edition of their inputs, and changed otherwise beyond a tolerance. Only preferred values are
compared (an alternative series or an older edition kept beside them is not a change)."""

from __future__ import annotations

from functools import lru_cache
from pathlib import Path

import pandas as pd
import pyarrow.parquet as pq

from indicators.flags import status_label
from publish.snapshot_check import read_manifest
from publish.snapshots import INDICATORS_FILE, MANIFEST_FILE
from warehouse.schema import INDICATOR_KEY

DEFAULT_TOLERANCE_PCT = 0.1
FLAGS = ("obs_status", "conf_status", "suppression")
KEY = list(INDICATOR_KEY)


def _values(folder: Path) -> pd.DataFrame:
    """A snapshot's preferred values, keyed, with the editions they rest on and their status."""
    if (Path(folder) / MANIFEST_FILE).exists():  # published (not one being written)
        read_manifest(folder)  # refuses a tampered edition
    path = Path(folder) / INDICATORS_FILE
    stat = path.stat()
    return _read_values(path, stat.st_size, stat.st_mtime_ns).copy()


@lru_cache(maxsize=2)  # a report's snapshot and the one before it
def _read_values(path: Path, size: int, mtime_ns: int) -> pd.DataFrame:
    """Read once per file (snapshots are immutable; size and time guard against reuse of a
    path): the profile report compares the same two snapshots in each of its languages."""
    present = set(pq.read_schema(path).names)
    extra = [c for c in ("source_vintages", "preferred", *FLAGS) if c in present]
    frame = pd.read_parquet(path, columns=[*KEY, "obs_value", "unit_measure", *extra])
    if "preferred" in frame:
        frame = frame[frame["preferred"].fillna(True).astype(bool)]
    frame["editions"] = (
        frame["source_vintages"].map(lambda v: "; ".join(v) if v is not None else "")
        if "source_vintages" in frame
        else ""
    )
    frame["status"] = [
        status_label(o, c, s) if pd.isna(v) else ""
        for v, o, c, s in zip(
            frame["obs_value"],
            frame.get("obs_status", pd.Series(None, index=frame.index)),
            frame.get("conf_status", pd.Series("C", index=frame.index)),
            frame.get("suppression", pd.Series(None, index=frame.index)),
            strict=True,
        )
    ]
    return frame[[*KEY, "obs_value", "unit_measure", "editions", "status"]].drop_duplicates(KEY)


def diff_snapshots(old: Path, new: Path, tolerance_pct: float = DEFAULT_TOLERANCE_PCT) -> dict:
    """Rows only in `new` (added), only in `old` (removed), and in both with a relative change
    beyond `tolerance_pct` percent or published in one and suppressed in the other: `revised`
    where the editions of their inputs differ (a publisher's new release), `changed` otherwise."""
    a, b = _values(old), _values(new)
    merged = a.merge(b, on=KEY, how="outer", suffixes=("_old", "_new"), indicator=True)
    added = merged[merged["_merge"] == "right_only"]
    removed = merged[merged["_merge"] == "left_only"]
    both = merged[merged["_merge"] == "both"].copy()
    before, after = both["obs_value_old"], both["obs_value_new"]
    both["change_pct"] = (after - before) / before.abs().where(before != 0) * 100
    numeric = before.notna() & after.notna()
    moved = numeric & (both["change_pct"].abs().gt(tolerance_pct) | (before.eq(0) & after.ne(0)))
    flipped = before.isna() != after.isna()
    different = both[moved | flipped]
    new_edition = different["editions_old"] != different["editions_new"]
    revised, changed = different[new_edition], different[~new_edition]

    def records(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
        out = frame[columns].astype(object).where(frame[columns].notna(), None)
        return out.to_dict(orient="records")

    def by_size(frame: pd.DataFrame) -> pd.DataFrame:
        return frame.sort_values("change_pct", key=lambda s: -s.abs(), na_position="first")

    moved_columns = [
        *KEY,
        "obs_value_old",
        "obs_value_new",
        "change_pct",
        "status_old",
        "status_new",
    ]
    return {
        "old": old.name,
        "new": new.name,
        "tolerance_pct": tolerance_pct,
        "counts": {
            "added": len(added),
            "removed": len(removed),
            "revised": len(revised),
            "changed": len(changed),
            "unchanged": len(both) - len(different),
        },
        "by_indicator": _by_indicator(added, removed, revised, changed),
        "added": records(
            added.rename(columns={"obs_value_new": "obs_value", "editions_new": "edition"}),
            [*KEY, "obs_value", "edition"],
        ),
        "removed": records(
            removed.rename(columns={"obs_value_old": "obs_value", "editions_old": "edition"}),
            [*KEY, "obs_value", "edition"],
        ),
        "revised": records(
            by_size(revised).rename(
                columns={"editions_old": "edition_old", "editions_new": "edition_new"}
            ),
            [*moved_columns, "edition_old", "edition_new"],
        ),
        "changed": records(by_size(changed), moved_columns),
    }


def _by_indicator(
    added: pd.DataFrame, removed: pd.DataFrame, revised: pd.DataFrame, changed: pd.DataFrame
) -> dict:
    table = pd.DataFrame(
        {
            "added": added.groupby("indicator_id").size(),
            "removed": removed.groupby("indicator_id").size(),
            "revised": revised.groupby("indicator_id").size(),
            "changed": changed.groupby("indicator_id").size(),
        }
    )
    table = table.fillna(0).astype(int).sort_index()
    return {k: v for k, v in table.to_dict(orient="index").items()}
