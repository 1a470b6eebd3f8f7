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
            try:
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
            except (OSError, ValueError, KeyError, TypeError):
                continue  # a damaged manifest: not an edition anyone can read (damaged_editions)
    return found


def damaged_editions(country_dir: Path) -> list[Path]:
    """The edition folders of a country whose manifest cannot be read: left out of every list,
    and replaced by the next refresh."""
    listed = {s["path"] for s in list_snapshots(country_dir.parent, country_dir.name)}
    if not country_dir.is_dir():
        return []
    return [
        folder
        for folder in sorted(p for p in country_dir.iterdir() if p.is_dir())
        if not folder.name.startswith(".")
        and (folder / MANIFEST_FILE).exists()
        and str(folder) not in listed
    ]
