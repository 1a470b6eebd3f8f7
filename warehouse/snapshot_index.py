"""The published snapshots, listed from their manifests (no DuckDB, pandas or pyarrow: the
command line lists them at once)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

INDICATORS_FILE = "indicators.parquet"
MANIFEST_FILE = "manifest.json"


def list_snapshots(snapshots_dir: Path, country: str | None = None) -> list[dict[str, Any]]:
    """Every published snapshot (oldest first per country), read from the manifests."""
    root = Path(snapshots_dir)
    found = []
    if not root.is_dir():
        return found
    for country_dir in sorted(p for p in root.iterdir() if p.is_dir()):
        if country and country_dir.name != country:
            continue
        for folder in sorted(p for p in country_dir.iterdir() if p.is_dir()):
            manifest_path = folder / MANIFEST_FILE
            if folder.name.startswith(".") or not manifest_path.exists():
                continue
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            found.append(
                {
                    "country": manifest["profile"],
                    "version": manifest["version"],
                    "created_at": manifest["created_at"],
                    "rows": manifest["row_counts"][INDICATORS_FILE],
                    "path": str(folder),
                }
            )
    return found
