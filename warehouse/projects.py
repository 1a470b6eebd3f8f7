"""Project tables: the registry, and the logframe reports linked to it and to the catalogue."""

from __future__ import annotations

import duckdb
import pandas as pd

from sources.geography import admin_area_on, admin_areas, current_codes
from sources.projects import read_registry
from warehouse.batches import batches_of
from warehouse.db import transaction

REPORTS_SOURCE = "project_reports"

DDL = """
CREATE TABLE IF NOT EXISTS core.admin_areas (
    code VARCHAR, country VARCHAR, level VARCHAR, name VARCHAR, parent_code VARCHAR,
    valid_from DATE, valid_to DATE, source VARCHAR, successors VARCHAR[], members VARCHAR[]
);
CREATE TABLE IF NOT EXISTS core.projects (
    project_code VARCHAR PRIMARY KEY, country VARCHAR, number INTEGER, title VARCHAR,
    partners VARCHAR, countries_involved VARCHAR[], theme_inferred VARCHAR
);
CREATE TABLE IF NOT EXISTS core.project_indicators (
    project_code VARCHAR, indicator_code VARCHAR, indicator VARCHAR, unit VARCHAR, sex VARCHAR,
    emp_indicator_id VARCHAR, linked_to_catalogue BOOLEAN, batch_id VARCHAR
);
CREATE TABLE IF NOT EXISTS core.project_values (
    project_code VARCHAR, indicator_code VARCHAR, sex VARCHAR, value_kind VARCHAR,
    period VARCHAR, value_date DATE, value DOUBLE, reporting_period VARCHAR, data_status VARCHAR,
    batch_id VARCHAR
);
CREATE TABLE IF NOT EXISTS core.project_areas (
    project_code VARCHAR, area_code VARCHAR, area_name VARCHAR, level VARCHAR,
    as_of DATE, current_codes VARCHAR[], batch_id VARCHAR
);
"""


def _replace(con: duckdb.DuckDBPyConnection, table: str, frame: pd.DataFrame) -> None:
    con.execute(f"DELETE FROM {table}")
    if len(frame):
        con.register("incoming", frame)
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM incoming")
        con.unregister("incoming")


def refresh_admin_areas(con: duckdb.DuckDBPyConnection) -> int:
    con.execute(DDL)
    frame = admin_areas()
    with transaction(con):
        _replace(con, "core.admin_areas", frame)
    return len(frame)


def rebuild_projects(con: duckdb.DuckDBPyConnection, indicator_ids: set[str]) -> dict[str, int]:
    """Registry from the JMDI annex; indicators, values and areas from every logframe batch
    (a later report replaces what an earlier one said for the same project)."""
    con.execute(DDL)
    registry = read_registry()
    reports = _latest_reports(con)
    indicators = (
        reports.drop_duplicates(["project_code", "indicator_code", "sex"])
        .loc[
            :,
            [
                "project_code",
                "indicator_code",
                "indicator",
                "unit",
                "sex",
                "emp_indicator_id",
                "batch_id",
            ],
        ]
        .assign(linked_to_catalogue=lambda f: f["emp_indicator_id"].isin(indicator_ids))
        if len(reports)
        else pd.DataFrame()
    )
    values = (
        reports.loc[
            :,
            [
                "project_code",
                "indicator_code",
                "sex",
                "value_kind",
                "period",
                "value_date",
                "value",
                "reporting_period",
                "data_status",
                "batch_id",
            ],
        ]
        if len(reports)
        else pd.DataFrame()
    )
    areas = _areas(reports)
    with transaction(con):
        _replace(con, "core.projects", registry)
        _replace(con, "core.project_indicators", indicators)
        _replace(con, "core.project_values", values)
        _replace(con, "core.project_areas", areas)
    return {
        "projects": len(registry),
        "indicators": len(indicators),
        "values": len(values),
        "areas": len(areas),
    }


def _latest_reports(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    batch_ids = batches_of(con, REPORTS_SOURCE)
    if not batch_ids:
        return pd.DataFrame()
    frames = [
        con.execute(f"SELECT * FROM raw.{REPORTS_SOURCE} WHERE batch_id = ?", [b]).df()
        for b in batch_ids
    ]
    reports = pd.concat(frames, ignore_index=True)
    latest = reports.groupby("project_code")["report_date"].transform("max")
    reports = reports[reports["report_date"] == latest]
    return reports.drop_duplicates(
        ["project_code", "indicator_code", "sex", "value_kind", "period"], keep="last"
    )


def _areas(reports: pd.DataFrame) -> pd.DataFrame:
    rows = []
    if not len(reports):
        return pd.DataFrame()
    for project, batch, as_of, codes in (
        reports[["project_code", "batch_id", "report_date", "areas"]]
        .drop_duplicates()
        .itertuples(index=False)
    ):
        as_of = pd.Timestamp(as_of).date()
        for code in filter(None, str(codes).split(";")):
            area = admin_area_on(code, as_of)
            rows.append(
                {
                    "project_code": project,
                    "area_code": code,
                    "area_name": area["name"] if area else None,
                    "level": area["level"] if area else None,
                    "as_of": as_of,
                    "current_codes": current_codes(code, as_of),
                    "batch_id": batch,
                }
            )
    return pd.DataFrame(rows).drop_duplicates(["project_code", "area_code"], keep="last")
