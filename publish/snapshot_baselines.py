"""Baselines read back from published snapshots alone (no warehouse): what `emp baseline` serves.

A snapshot folder holds the baselines that were built with it, so the same command gives the same
baseline next year, even after the sources were revised and the profile refreshed.
"""

from __future__ import annotations

import hashlib
import io
import json
from datetime import date, datetime
from functools import cache
from pathlib import Path

import pandas as pd

from indicators.baselines import (
    BaselineRequest,
    baselines,
    did_panel,
    identification_problems,
    pretrends,
    reconcile,
)
from indicators.evaluation import (
    PREDICTOR_PREFIX,
    add_event_time,
    add_rates,
    census_populations,
    design,
    donor_table,
)
from indicators.translations import localised_catalogue, term
from publish.snapshot_check import read_manifest
from publish.snapshots import BASELINE_FILES, INDICATORS_FILE, MANIFEST_FILE, list_snapshots
from sources.source_names import source_label
from sources.yaml_files import read_yaml
from warehouse.safe_output import neutralise_formulas

TABLES = {
    "baselines": "baselines",
    "panel": "panel",
    "reconciliation": "reconciliation",
    "pretrends": "pretrends",
    "donors": "donors",
}
#: Tables frozen in a snapshot (the others are derived from them when asked for).
FROZEN = ("baselines", "panel", "reconciliation", "pretrends")
FORMATS = ("csv", "parquet", "json")
DICTIONARY_PATH = Path(__file__).resolve().parents[1] / "indicators" / "baseline_dictionary.yaml"
#: The columns that say which value a baseline row is (compared between snapshots).
ROW_KEY = [
    "request_id",
    "indicator_id",
    "series",
    "ref_area",
    "role",
    "sex",
    "age",
    "migrant_status",
    "counterpart_area",
    "breakdown",
]


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
    before `as_of`, or the latest; among the countries whose snapshots know the project. An
    approved edition answers before a newer draft."""
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
        if not country:
            raise BaselineNotFoundError(
                f"no baseline for {project!r} in the snapshots chosen "
                f"({len(published)} looked at); register a request or pass --request FILE"
            )
        knowing = published  # an ad-hoc request: the country's latest snapshot answers
    from publish.approvals import statuses

    approved = statuses(snapshots_dir)  # what the working group approved answers first
    knowing = [s for s in knowing if (s["country"], s["version"]) in approved] or knowing
    chosen = max(knowing, key=lambda s: (s["created_at"], s["version"]))
    read_manifest(chosen["path"])  # a tampered edition is refused, never answered from
    return chosen


def _knows(folder: Path, project: str) -> bool:
    requests = _requests(folder)
    return not requests.empty and (
        (requests["request_id"] == project).any() or (requests["project"] == project).any()
    )


def render_dictionary(columns: list[str], notes: dict[str, str] | None = None) -> bytes:
    """The data dictionary as CSV: the sidecar of a CSV output."""
    return pd.DataFrame(dictionary(columns, notes)).to_csv(index=False).encode("utf-8")


def frozen_tables(folder: Path, project: str) -> dict[str, pd.DataFrame]:
    """The baseline, panel and reconciliation the snapshot froze for `project`."""
    requests = _requests(folder)
    ids = set(
        requests.loc[
            (requests["request_id"] == project) | (requests["project"] == project), "request_id"
        ]
    )
    out = {}
    for key in FROZEN:
        path = folder / BASELINE_FILES[key]
        frame = pd.read_parquet(path) if path.exists() else pd.DataFrame()
        out[key] = (
            frame[frame["request_id"].isin(ids)].reset_index(drop=True) if len(frame) else frame
        )
    if out["pretrends"].empty and len(out["panel"]) and "status" in out["panel"]:
        out["pretrends"] = pretrends(out["panel"])  # a snapshot frozen before pretrends
    request = frozen_request(folder, project)
    if request is not None and len(out["panel"]) and "event_time" not in out["panel"]:
        # a snapshot frozen before event time and rates: added from what the snapshot holds
        panel = add_event_time(out["panel"], request.start)
        out["panel"] = add_rates(panel, _census_populations(folder))
    out["donors"] = _donors(folder, out["panel"], request)
    return out


def _census_populations(folder: Path) -> pd.DataFrame:
    indicators = pd.read_parquet(folder / INDICATORS_FILE)
    labels = {sid: source_label(sid) for ids in indicators["source_ids"] for sid in ids}
    return census_populations(indicators, labels)


def _donors(folder: Path, panel: pd.DataFrame, request: BaselineRequest | None) -> pd.DataFrame:
    """The synthetic-control inputs of a panel (computed when asked, from the snapshot)."""
    if request is None or panel.empty or "status" not in panel:
        return pd.DataFrame()
    indicators = pd.read_parquet(folder / INDICATORS_FILE)
    donors, _left_out = donor_table(panel, indicators, request.start)
    return donors


def donors_left_out(folder: Path, panel: pd.DataFrame, request: BaselineRequest) -> list:
    """(intervention area, comparison area, periods it lacks) for each area left out of a donor
    pool."""
    indicators = pd.read_parquet(folder / INDICATORS_FILE)
    return donor_table(panel, indicators, request.start)[1]


def tables_for_request(folder: Path, request: BaselineRequest) -> dict[str, pd.DataFrame]:
    """An ad-hoc request answered from the snapshot's indicators (read-only)."""
    indicators = pd.read_parquet(folder / INDICATORS_FILE)
    version = folder.name
    panel = did_panel(indicators, request, _census_populations(folder))
    return {
        "baselines": baselines(indicators, request).assign(snapshot_version=version),
        "panel": panel.assign(snapshot_version=version),
        "reconciliation": reconcile(indicators, request).assign(snapshot_version=version),
        "pretrends": pretrends(panel).assign(snapshot_version=version),
        "donors": donor_table(panel, indicators, request.start)[0].assign(snapshot_version=version),
    }


def frozen_request(folder: Path, project: str) -> BaselineRequest | None:
    """The request a snapshot froze for `project` (by request id or project code)."""
    requests = _requests(folder)
    if requests.empty:
        return None
    found = requests[(requests["request_id"] == project) | (requests["project"] == project)]
    if found.empty:
        return None
    return BaselineRequest.model_validate_json(found.iloc[0]["request_json"])


def panel_problems(panel: pd.DataFrame, request: BaselineRequest) -> list[str]:
    """Why this panel cannot identify an effect (empty when it can)."""
    return identification_problems(panel, request)


def snapshot_identity(folder: Path) -> dict:
    """The snapshot a baseline comes from: country, version, publication time and the SHA-256
    of its manifest (which lists the hash of every file in it)."""
    manifest_bytes = (folder / MANIFEST_FILE).read_bytes()
    manifest = json.loads(manifest_bytes)
    return {
        "country": manifest["profile"],
        "version": manifest["version"],
        "created_at": manifest["created_at"],
        "manifest_sha256": hashlib.sha256(manifest_bytes).hexdigest(),
    }


@cache
def _dictionary() -> dict[str, dict]:
    return read_yaml(DICTIONARY_PATH)["columns"]


def dictionary(columns: list[str], notes: dict[str, str] | None = None) -> list[dict]:
    """What each column of an output holds and its unit (indicators/baseline_dictionary.yaml),
    with what this output says about it (`notes`: how many clusters, where rates exist)."""
    known = dict(_dictionary())
    for column in columns:
        if column.startswith(PREDICTOR_PREFIX):
            series = column.removeprefix(PREDICTOR_PREFIX)
            known[column] = {
                "meaning": f"predictor: {term('series', series, 'en')} ({series}) in the area, "
                "latest census on or before the start",
                "unit": "per cent",
            }
    rows = []
    for column in columns:
        meaning = (known.get(column) or {}).get("meaning", "")
        if notes and notes.get(column):
            meaning = f"{meaning}. {notes[column]}" if meaning else notes[column]
        rows.append(
            {
                "column": column,
                "meaning": meaning,
                "unit": (known.get(column) or {}).get("unit", ""),
            }
        )
    return rows


def panel_notes(panel: pd.DataFrame) -> dict[str, str]:
    """What a panel's dictionary says of this panel: its clusters and treated clusters (with a
    warning when too few for cluster-robust errors), and where a rate per 1,000 exists."""
    if panel.empty or "status" not in panel:
        return {}
    notes = {}
    found = design(panel)
    if len(found):
        notes["ref_area"] = "This panel's clusters (areas with a value): " + "; ".join(
            f"{r.indicator_id} ({r.series}) {r.clusters}" for r in found.itertuples()
        )
        notes["treated"] = "Treated clusters: " + "; ".join(
            f"{r.indicator_id} ({r.series}) {r.treated_clusters} of {r.clusters}"
            + (
                " (fewer than 5 treated or 30 clusters: cluster-robust standard errors are "
                "too small; use a wild cluster bootstrap or randomisation inference)"
                if r.few_clusters
                else ""
            )
            for r in found.itertuples()
        )
    if "rate_per_1000" in panel:
        counts = panel[(panel["status"] == "value") & (panel["unit_measure"] == "PS")]
        rated = counts["rate_per_1000"].notna().sum() if len(counts) else 0
        if len(counts) and not rated:
            notes["rate_per_1000"] = (
                "This panel: EMP holds no population for these areas and periods, so no rate"
            )
        elif len(counts):
            notes["rate_per_1000"] = (
                f"This panel: given for {rated} of {len(counts)} counts (where a census or the "
                "World Bank gives the area's population in that period)"
            )
    return notes


def with_names(frame: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """Indicator, series and unit names spelled out beside their codes."""
    if frame.empty:
        return frame
    frame = frame.copy()
    names = {i.id: i.name for i in localised_catalogue(language)}
    columns = list(frame.columns)
    additions = []
    if "indicator_id" in frame:
        additions.append(("indicator_id", "indicator_name", frame["indicator_id"].map(names)))
    if "series" in frame:
        additions.append(
            ("series", "series_name", frame["series"].map(lambda s: term("series", s, language)))
        )
    if "unit_measure" in frame:
        additions.append(
            (
                "unit_measure",
                "unit_name",
                frame["unit_measure"].map(lambda u: term("units", u, language) if u else None),
            )
        )
    for after, name, values in additions:
        frame[name] = values
        columns.insert(columns.index(after) + 1, name)
    return frame[columns]


def compare_baselines(old: pd.DataFrame, new: pd.DataFrame) -> pd.DataFrame:
    """The baseline rows a later snapshot would change: another value, period or status for
    the same request, indicator, area and breakdown (or a row only one of them has)."""
    key = [c for c in ROW_KEY if c in old.columns and c in new.columns]
    keep = [*key, "status", "time_period", "obs_value"]
    merged = old[keep].merge(
        new[keep], on=key, how="outer", suffixes=("_old", "_new"), indicator=True
    )
    same_value = (merged["obs_value_old"] - merged["obs_value_new"]).abs().le(
        1e-9 * merged["obs_value_old"].abs().clip(lower=1)
    ) | (merged["obs_value_old"].isna() & merged["obs_value_new"].isna())
    same = (
        (merged["_merge"] == "both")
        & same_value
        & (merged["status_old"] == merged["status_new"])
        & (merged["time_period_old"].fillna("") == merged["time_period_new"].fillna(""))
    )
    changed = merged[~same].copy()
    changed["change"] = (
        changed["_merge"]
        .map({"left_only": "only in the old snapshot", "right_only": "only in the new snapshot"})
        .astype(object)
    )
    changed.loc[changed["_merge"] == "both", "change"] = "revised"
    changed["difference"] = changed["obs_value_new"] - changed["obs_value_old"]
    return changed.drop(columns="_merge").sort_values(key).reset_index(drop=True)


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


def render(
    frame: pd.DataFrame, fmt: str, about: dict | None = None, notes: dict | None = None
) -> bytes:
    """The table as CSV, Parquet or JSON bytes. JSON is one object: `about` (the request, the
    snapshot, the table's name), the data dictionary, and the rows."""
    if fmt == "csv":
        return neutralise_formulas(_plain(frame)).to_csv(index=False).encode("utf-8")
    if fmt == "json":
        records = json.loads(frame.to_json(orient="records", date_format="iso"))
        document = {
            **(about or {}),
            "dictionary": dictionary(list(frame.columns), notes),
            "rows": records,
        }
        return (json.dumps(document, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    if fmt == "parquet":
        buffer = io.BytesIO()
        frame.to_parquet(buffer, index=False)
        return buffer.getvalue()
    raise ValueError(f"format {fmt!r}: use one of {', '.join(FORMATS)}")
