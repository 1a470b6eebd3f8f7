"""Lineage: every published value traced to the observations it was computed from, and each of
those to its file (name, SHA-256), sheet and row.

Each value in marts.indicators lists its inputs in `source_rows` (batch and observation key); the
snapshot keeps those observations in `lineage.parquet`, so `emp explain` needs nothing but the
snapshot folder.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from indicators.catalogue import CENSUS, NATIONAL_ONLY, catalogue
from indicators.methods import METHODS, OBSERVATION_REF
from warehouse.schema import INDICATOR_KEY

LINEAGE_FILE = "lineage.parquet"
KEY_SEPARATOR = "."
#: SQL for the value key of a marts.indicators row: its dimensions joined by dots.
VALUE_KEY_SQL = "concat_ws('" + KEY_SEPARATOR + "', " + ", ".join(INDICATOR_KEY) + ")"


def lineage_observations(con: duckdb.DuckDBPyConnection, refs: list[str]) -> pd.DataFrame:
    """The observations `refs` name (indicators.methods.OBSERVATION_REF: batch and key), with
    their file, its SHA-256 and the sheet and row they were read from."""
    wanted = pd.DataFrame({"ref": sorted(set(refs))})
    wanted["batch_id"] = wanted["ref"].str.split("|", n=1).str[0]
    con.register("wanted_refs", wanted)
    try:
        frame = con.execute(
            f"""
            WITH observations AS (
                SELECT * FROM core.observations
                WHERE batch_id IN (SELECT batch_id FROM wanted_refs)
                UNION ALL BY NAME SELECT * EXCLUDE (superseded_by)
                FROM core.superseded_observations
                WHERE batch_id IN (SELECT batch_id FROM wanted_refs)
            )
            SELECT w.ref, o.batch_id, o.source_row, o.series, o.ref_area, o.counterpart_area,
                   o.time_period, o.sex, o.age, o.migrant_status, o.breakdown, o.obs_value,
                   o.unit_measure, o.unit_mult, o.source_id, b.file_name, b.sha256, b.raw_table
            FROM observations o
            JOIN wanted_refs w ON w.ref = {OBSERVATION_REF.format(t="o.")}
            JOIN meta.batches b ON b.batch_id = o.batch_id
            ORDER BY ALL
            """
        ).df()
    finally:
        con.unregister("wanted_refs")
    frame["sheet"] = _sheets(con, frame)
    return frame.drop(columns=["raw_table"])


def _sheets(con: duckdb.DuckDBPyConnection, frame: pd.DataFrame) -> pd.Series:
    """The worksheet of each observation, where its raw table records one."""
    sheets = pd.Series(None, index=frame.index, dtype=object)
    for table, rows in frame.groupby("raw_table").groups.items():
        if not str(table).startswith("raw."):
            continue
        schema, name = str(table).split(".", 1)
        columns = {
            c
            for (c,) in con.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ?",
                [schema, name],
            ).fetchall()
        }
        if not {"sheet", "source_row", "batch_id"} <= columns:
            continue
        by_series = "series" in columns
        found = con.execute(
            f"SELECT batch_id, source_row, {'series' if by_series else 'NULL'} AS series, "
            f"any_value(sheet) AS sheet FROM {table} "
            "WHERE list_contains($batches, batch_id) GROUP BY ALL",
            {"batches": sorted(set(frame.loc[rows, "batch_id"]))},
        ).df()
        lookup = {
            (b, int(r), s if by_series else None): sheet
            for b, r, s, sheet in found.itertuples(index=False)
            if pd.notna(r)
        }
        for i in rows:
            row = frame.at[i, "source_row"]
            if pd.notna(row):
                key = (
                    frame.at[i, "batch_id"],
                    int(row),
                    frame.at[i, "series"] if by_series else None,
                )
                sheets.at[i] = lookup.get(key)
    return sheets


def parse_key(key: str) -> dict[str, str]:
    """A value key (`INDICATOR.SERIES.AREA.COUNTERPART.PERIOD.SEX.AGE.STATUS.BREAKDOWN`) as
    dimensions; the dimensions after the period may be left out (totals, `_T`)."""
    parts = key.strip().split(KEY_SEPARATOR)
    if len(parts) < 5 or len(parts) > len(INDICATOR_KEY):
        raise ValueError(
            f"value key {key!r}: write INDICATOR.SERIES.AREA.COUNTERPART.PERIOD, then "
            "optionally .SEX.AGE.MIGRANT_STATUS.BREAKDOWN (e.g. EMI_RATE.EMI_RATE.MDA._T.2017); "
            "the snapshot's indicators.parquet gives each value's key in column value_key"
        )
    parts += ["_T"] * (len(INDICATOR_KEY) - len(parts))
    return dict(zip(INDICATOR_KEY, parts, strict=True))


def _given(value: object) -> bool:
    """A cell that holds something (not None, not NaN)."""
    if value is None:
        return False
    try:
        return not bool(pd.isna(value))
    except (TypeError, ValueError):  # a list or an array
        return True


def _number(value: object, unit: object) -> str:
    if not _given(value):
        return "no value"
    text = f"{float(value):,.4f}".rstrip("0").rstrip(".")
    return f"{text} {unit or ''}".strip()


def explain(snapshot: Path, key: str) -> list[str]:
    """The chain behind one published value, as lines a person reads: the value and its flags,
    the indicator and how it is computed, the observations it used, and for each the file, its
    SHA-256, the sheet and the row."""
    wanted = parse_key(key)
    from publish.snapshot_check import read_manifest

    manifest = read_manifest(snapshot)  # refuses a tampered edition
    values = pd.read_parquet(Path(snapshot) / "indicators.parquet")
    match = values
    for dimension, code in wanted.items():
        match = match[match[dimension].astype(str) == code]
    if match.empty:
        raise LookupError(f"no value with key {key} in snapshot {snapshot}")
    lineage_path = Path(snapshot) / LINEAGE_FILE
    lineage = pd.read_parquet(lineage_path) if lineage_path.exists() else pd.DataFrame()
    inputs = {i["batch_id"]: i for i in manifest.get("inputs", [])}
    indicator = {i.id: i for i in catalogue()}.get(wanted["indicator_id"])
    lines = [
        f"{KEY_SEPARATOR.join(wanted.values())} in snapshot {manifest['profile']}/"
        f"{manifest['version']}"
    ]
    if indicator:
        lines.append(f"indicator {indicator.id}: {indicator.name}")
        lines.append(f"  formula: {indicator.formula}")
        for role in ("numerator", "denominator"):
            text = getattr(indicator, role)
            if text:
                lines.append(f"  {role}: {' '.join(str(text).split())}")
    preferred = match.sort_values("preferred", ascending=False) if "preferred" in match else match
    for row in preferred.to_dict("records"):
        flags = (
            f"OBS_STATUS {row.get('obs_status') or 'A'}, "
            f"CONF_STATUS {row.get('conf_status') or 'F'}"
        )
        if _given(row.get("suppression")):
            flags += f" ({row['suppression']} suppression)"
        role = "preferred" if row.get("preferred") is not False else "alternative"
        lines.append(f"value ({role}): {_number(row['obs_value'], row['unit_measure'])}; {flags}")
        if _given(row.get("comment")):
            lines.append(f"  note: {row['comment']}")
        lines += _query_lines(indicator, row)
        refs = list(row["source_rows"]) if _given(row.get("source_rows")) else []
        used = lineage[lineage["ref"].isin(refs)] if len(lineage) else lineage
        if len(used):
            lines.append(f"  observations ({len(used)}):")
            for o in used.to_dict("records"):
                where = f"row {o['source_row']}" if pd.notna(o["source_row"]) else "row ?"
                if _given(o.get("sheet")):
                    where = f"sheet {o['sheet']}, {where}"
                lines.append(
                    f"    {o['series']} {o['ref_area']} -> {o['counterpart_area']} "
                    f"{o['time_period']} sex {o['sex']} age {o['age']}: "
                    f"{_number(o['obs_value'], o['unit_measure'])}"
                )
                lines.append(f"      from {o['file_name']} (sha256 {o['sha256']}), {where}")
        for batch in list(row["batch_ids"]) if _given(row.get("batch_ids")) else []:
            found = inputs.get(batch)
            if found and (not len(used) or batch not in set(used["batch_id"])):
                lines.append(
                    f"  input {found['source_id']}: {found['file_name']} (sha256 "
                    f"{found['sha256']}), {found.get('vintage') or ''}".rstrip(", ")
                    + (
                        " - census microdata, aggregated in the warehouse; no row is published"
                        if str(found["source_id"]).startswith("census_")
                        else ""
                    )
                )
    return lines


def _query_lines(indicator, row: dict) -> list[str]:
    if indicator is None:
        return []
    if indicator.method == CENSUS:
        return [
            "  query: census series "
            f"{row['series']} (indicators/census_series.yaml, indicators/census.py), "
            "weighted sums over the census person table, then disclosure control"
        ]
    if indicator.method == NATIONAL_ONLY or indicator.method not in METHODS:
        return [f"  query: national series {row['series']} as the source spec maps it"]
    sql = " ".join(METHODS[indicator.method].replace("{id}", indicator.id).split())
    return [
        f"  query: method {indicator.method} (indicators/methods.py): "
        f"{sql[:400]}{'...' if len(sql) > 400 else ''}"
    ]
