"""Baselines for every registered request, stored in marts.* and frozen into each snapshot."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pandas as pd

from indicators.baselines import (
    BaselineRequest,
    all_requests,
    baselines,
    did_panel,
    pretrends,
    reconcile,
    requests_from_logframes,
    usable_requests,
)
from warehouse.db import transaction
from warehouse.held_back import replace_held_back

TABLES = {
    "marts.baselines": "baselines",
    "marts.baseline_panel": "panel",
    "marts.baseline_reconciliation": "reconciliation",
    "marts.baseline_pretrends": "pretrends",
    "marts.baseline_requests": "requests",
}


def requests_in_warehouse(
    con: duckdb.DuckDBPyConnection, folder: Path, known_indicators: set[str]
) -> list[BaselineRequest]:
    """Registered request files plus requests derived from the logframe reports loaded; a
    request file that cannot be used is held back (meta.held_back, origin `baselines`)."""
    registered, held = usable_requests(folder, known_indicators)
    replace_held_back(con, "baselines", [(None, None, item, why) for item, why in held])
    tables = {
        name: con.execute(f"SELECT * FROM core.{name}").df()
        for name in ("project_indicators", "project_values", "project_areas", "projects")
    }
    derived = requests_from_logframes(
        tables["project_indicators"],
        tables["project_values"],
        tables["project_areas"],
        tables["projects"],
    )
    return all_requests(registered, derived)


def indicators_for(con: duckdb.DuckDBPyConnection, requests: list[BaselineRequest]) -> pd.DataFrame:
    ids = sorted({c.id for r in requests for c in r.indicators})
    return con.sql(
        "SELECT * FROM marts.indicators WHERE list_contains($ids, indicator_id)",
        params={"ids": ids},
    ).df()


def area_populations(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """Residents by area and period, for rates per 1,000: the census's weighted residents by area
    (census year) and the World Bank's total population of each country (every year)."""
    from indicators.census import series_definitions
    from indicators.evaluation import census_populations
    from sources.source_names import source_label

    of_all = [s for s, spec in series_definitions().items() if spec.denominator == "all"]
    census = con.sql(
        "SELECT * FROM marts.indicators WHERE list_contains($series, series)",
        params={"series": of_all},
    ).df()
    labels = {sid: source_label(sid) for ids in census["source_ids"] for sid in ids}
    national = con.execute(
        "SELECT o.ref_area, o.time_period, o.obs_value * power(10, coalesce(o.unit_mult, 0)), "
        "o.source_id, b.vintage FROM core.observations o LEFT JOIN meta.batches b USING (batch_id) "
        "WHERE o.series = 'SP_POP_TOTL' AND o.obs_value IS NOT NULL"
    ).df()
    national.columns = ["ref_area", "time_period", "population", "source_id", "vintage"]
    national["population_source"] = [
        f"{source_label(sid)} ({vintage})" if vintage else source_label(sid)
        for sid, vintage in zip(national["source_id"], national["vintage"], strict=True)
    ]
    return pd.concat(
        [census_populations(census, labels), national.drop(columns=["source_id", "vintage"])],
        ignore_index=True,
    )


def request_record(request: BaselineRequest) -> dict:
    return {
        "request_id": request.id,
        "country": request.country,
        "project": request.project,
        "policy": request.policy,
        "origin": request.origin,
        "request_json": request.model_dump_json(),
    }


def build_baselines(con: duckdb.DuckDBPyConnection, requests: list[BaselineRequest]) -> dict:
    """Compute every request's baseline, panel and reconciliation and replace the marts tables
    in one transaction."""
    indicators = indicators_for(con, requests)
    populations = area_populations(con)
    panels = [did_panel(indicators, r, populations) for r in requests]
    frames = {
        "baselines": [baselines(indicators, r) for r in requests],
        "panel": panels,
        "pretrends": [pretrends(p) for p in panels],
        "reconciliation": [reconcile(indicators, r) for r in requests],
        "requests": [pd.DataFrame([request_record(r)]) for r in requests],
    }
    combined = {
        key: _stringly(pd.concat(parts, ignore_index=True)) if parts else pd.DataFrame()
        for key, parts in frames.items()
    }
    with transaction(con):
        for table, key in TABLES.items():
            con.execute(f"DROP TABLE IF EXISTS {table}")
            frame = combined[key]
            if frame.empty and not len(frame.columns):
                continue
            con.register("incoming", frame)
            con.execute(f"CREATE TABLE {table} AS SELECT * FROM incoming")
            con.unregister("incoming")
    return {key: len(frame) for key, frame in combined.items()}


def _stringly(frame: pd.DataFrame) -> pd.DataFrame:
    """Object columns holding dates become ISO text so every table has plain types."""
    for column in frame.columns:
        values = frame[column].dropna()
        if frame[column].dtype == object and len(values) and hasattr(values.iloc[0], "isoformat"):
            frame[column] = frame[column].map(lambda d: d.isoformat() if d is not None else None)
    return frame


def country_tables(con: duckdb.DuckDBPyConnection, country: str) -> dict[str, pd.DataFrame]:
    """The baseline tables of one country's requests (empty when none were built)."""
    present = {
        f"{s}.{t}"
        for s, t in con.execute(
            "SELECT schema_name, table_name FROM duckdb_tables() WHERE schema_name = 'marts'"
        ).fetchall()
    }
    if "marts.baseline_requests" not in present:
        return {}
    ids = [
        r[0]
        for r in con.execute(
            "SELECT request_id FROM marts.baseline_requests WHERE country = ?", [country]
        ).fetchall()
    ]
    return {
        key: con.sql(
            f"SELECT * FROM {table} WHERE list_contains($ids, request_id)", params={"ids": ids}
        ).df()
        for table, key in TABLES.items()
        if table in present
    }


def requests_json(frame: pd.DataFrame) -> list[dict]:
    return [json.loads(text) for text in frame.get("request_json", [])]
