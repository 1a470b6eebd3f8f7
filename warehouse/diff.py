"""What changed between two snapshot versions: indicators added, removed, and changed beyond a
tolerance."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from warehouse.schema import INDICATOR_KEY
from warehouse.snapshots import INDICATORS_FILE

DEFAULT_TOLERANCE_PCT = 0.1
KEY = list(INDICATOR_KEY)


def _values(folder: Path) -> pd.DataFrame:
    frame = pd.read_parquet(folder / INDICATORS_FILE, columns=[*KEY, "obs_value", "unit_measure"])
    return frame.drop_duplicates(KEY)


def diff_snapshots(old: Path, new: Path, tolerance_pct: float = DEFAULT_TOLERANCE_PCT) -> dict:
    """Rows only in `new` (added), only in `old` (removed), and in both with a relative change
    beyond `tolerance_pct` percent, or published in one and suppressed in the other (changed)."""
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
    changed = both[moved | flipped]

    def records(frame: pd.DataFrame, columns: list[str]) -> list[dict]:
        out = frame[columns].astype(object).where(frame[columns].notna(), None)
        return out.to_dict(orient="records")

    return {
        "old": old.name,
        "new": new.name,
        "tolerance_pct": tolerance_pct,
        "counts": {
            "added": len(added),
            "removed": len(removed),
            "changed": len(changed),
            "unchanged": len(both) - len(changed),
        },
        "by_indicator": _by_indicator(added, removed, changed),
        "added": records(added.rename(columns={"obs_value_new": "obs_value"}), [*KEY, "obs_value"]),
        "removed": records(
            removed.rename(columns={"obs_value_old": "obs_value"}), [*KEY, "obs_value"]
        ),
        "changed": records(
            changed.sort_values("change_pct", key=lambda s: -s.abs(), na_position="first"),
            [*KEY, "obs_value_old", "obs_value_new", "change_pct"],
        ),
    }


def _by_indicator(added: pd.DataFrame, removed: pd.DataFrame, changed: pd.DataFrame) -> dict:
    table = pd.DataFrame(
        {
            "added": added.groupby("indicator_id").size(),
            "removed": removed.groupby("indicator_id").size(),
            "changed": changed.groupby("indicator_id").size(),
        }
    )
    table = table.fillna(0).astype(int).sort_index()
    return {k: v for k, v in table.to_dict(orient="index").items()}
