"""Warehouse layout: meta (batches, quarantine), raw (one table per source), core, marts."""

from __future__ import annotations

from functools import cache
from pathlib import Path

import duckdb

from indicators.overlaps import OVERLAPS_DDL
from sources.observations import OBSERVATION_COLUMNS
from sources.yaml_files import read_yaml

_OBS = ",\n    ".join(f"{name} {kind}" for name, kind in OBSERVATION_COLUMNS.items())

INDICATOR_COLUMNS: dict[str, str] = {
    "indicator_id": "VARCHAR",
    "series": "VARCHAR",
    "ref_area": "VARCHAR",
    "counterpart_area": "VARCHAR",
    "time_period": "VARCHAR",
    "sex": "VARCHAR",
    "age": "VARCHAR",
    "migrant_status": "VARCHAR",
    "breakdown": "VARCHAR",
    "obs_value": "DOUBLE",
    "unit_measure": "VARCHAR",
    "unit_mult": "INTEGER",
    "source_ids": "VARCHAR[]",
    "source_vintages": "VARCHAR[]",
    "batch_ids": "VARCHAR[]",
    # the observations a value was computed from: `batch_id#source_row#series` (lineage)
    "source_rows": "VARCHAR[]",
    "denominator_source": "VARCHAR",
    "basis": "VARCHAR",
    "type_of_data": "VARCHAR",
    # SDMX OBS_STATUS: A normal, E estimated, P provisional or partial, B break in series,
    # U low reliability, D definition differs, M missing (cannot exist), L missing (exists but
    # not collected); CONF_STATUS: F free, C confidential (suppression says primary/secondary)
    "obs_status": "VARCHAR",
    "conf_status": "VARCHAR",
    "suppression": "VARCHAR",
    "base_count": "BIGINT",  # the count a rate rests on: decisions, census records
    "weight_sum": "DOUBLE",  # census: the sum of weights of the persons that count rests on
    "comment": "VARCHAR",  # SDMX COMMENT_OBS: why a value is flagged or missing
    "preferred": "BOOLEAN",
    # a total EMP computed from a reported breakdown: the dimensions summed ("sex"); else null
    "computed": "VARCHAR",
}
INDICATOR_KEY = (
    "indicator_id",
    "series",
    "ref_area",
    "counterpart_area",
    "time_period",
    "sex",
    "age",
    "migrant_status",
    "breakdown",
)
_IND = ",\n    ".join(f"{name} {kind}" for name, kind in INDICATOR_COLUMNS.items())

DDL = f"""
CREATE SCHEMA IF NOT EXISTS meta;
CREATE SCHEMA IF NOT EXISTS raw;
CREATE SCHEMA IF NOT EXISTS core;
CREATE SCHEMA IF NOT EXISTS marts;

CREATE TABLE IF NOT EXISTS meta.batches (
    batch_id VARCHAR PRIMARY KEY,
    source_id VARCHAR NOT NULL,
    file_name VARCHAR NOT NULL,
    file_path VARCHAR NOT NULL,
    sha256 VARCHAR NOT NULL,
    size_bytes BIGINT NOT NULL,
    vintage VARCHAR,
    loaded_at TIMESTAMP NOT NULL,
    rows_read BIGINT NOT NULL,
    rows_loaded BIGINT NOT NULL,
    rows_quarantined BIGINT NOT NULL,
    raw_table VARCHAR NOT NULL,
    spec_version INTEGER
);

CREATE TABLE IF NOT EXISTS meta.quarantine (
    batch_id VARCHAR NOT NULL,
    source_id VARCHAR NOT NULL,
    source_row BIGINT,
    raw_record JSON,
    reasons VARCHAR[]
);

CREATE TABLE IF NOT EXISTS meta.validation_results (
    checked_at TIMESTAMP NOT NULL,
    scope VARCHAR NOT NULL,      -- batch, core, indicators, reconciliation
    source_id VARCHAR,
    batch_id VARCHAR,
    check_name VARCHAR NOT NULL,
    severity VARCHAR NOT NULL,   -- error or warn
    success BOOLEAN NOT NULL,
    description VARCHAR,
    failure_count BIGINT,
    failures JSON
);

CREATE TABLE IF NOT EXISTS meta.held_back (
    origin VARCHAR NOT NULL,     -- the step that held it back: national, public:<source_id>
    source_id VARCHAR,           -- the dataset (spec id or public source), when known
    country VARCHAR NOT NULL,    -- ISO3 of the profile it concerns, '*' for every profile
    item VARCHAR NOT NULL,       -- the file or spec held back
    reason VARCHAR NOT NULL,
    recorded_at TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS meta.releases (
    source_id VARCHAR NOT NULL,  -- the publisher's series (sources/publishers/series.yaml)
    batch_id VARCHAR NOT NULL,
    edition VARCHAR NOT NULL,    -- as the publisher states it: 2020, 2024-06-28
    edition_order VARCHAR NOT NULL,  -- sortable; the newest edition sorts last
    vintage VARCHAR,
    file_path VARCHAR NOT NULL,  -- where the release lay when last scanned
    scanned_at TIMESTAMP NOT NULL
);

CREATE TABLE IF NOT EXISTS core.areas (
    code VARCHAR PRIMARY KEY,
    m49 INTEGER,
    name VARCHAR NOT NULL,
    kind VARCHAR NOT NULL
);

CREATE TABLE IF NOT EXISTS core.observations (
    {_OBS}
);

CREATE TABLE IF NOT EXISTS core.aggregate_observations (
    {_OBS}
);

CREATE TABLE IF NOT EXISTS core.superseded_observations (
    {_OBS},
    superseded_by VARCHAR  -- the batch of the newer edition preferred for the same key
);

CREATE TABLE IF NOT EXISTS core.census_indicators (
    series VARCHAR, country VARCHAR, census_round INTEGER, ref_area VARCHAR,
    counterpart_area VARCHAR, time_period VARCHAR, sex VARCHAR, age VARCHAR,
    migrant_status VARCHAR, breakdown VARCHAR, obs_value DOUBLE, unit_measure VARCHAR,
    n_unweighted BIGINT, suppressed BOOLEAN, source_id VARCHAR, batch_id VARCHAR,
    area_level VARCHAR, base_count BIGINT, basis VARCHAR, obs_status VARCHAR,
    conf_status VARCHAR, suppression VARCHAR, comment VARCHAR, weight_sum DOUBLE
);

-- every census count an edition was computed with as confidential: kept confidential in
-- every later edition (indicators/census_disclosure.py), whatever the threshold or data become
CREATE TABLE IF NOT EXISTS meta.census_confidential (
    country VARCHAR, census_round VARCHAR, measure VARCHAR, migrant_status VARCHAR,
    ref_area VARCHAR, counterpart_area VARCHAR, sex VARCHAR, age VARCHAR, breakdown VARCHAR,
    first_threshold INTEGER, recorded_at TIMESTAMP
);

CREATE TABLE IF NOT EXISTS marts.indicators (
    {_IND}
);
{OVERLAPS_DDL};
"""


#: Columns added since the first release: a warehouse built before them gains them on open.
ADDED_COLUMNS = {
    "meta.batches": {"spec_version": "INTEGER", "validation": "VARCHAR", "notes": "VARCHAR[]"},
    "core.observations": {"breakdown": "VARCHAR DEFAULT '_T'"},
    "core.aggregate_observations": {"breakdown": "VARCHAR DEFAULT '_T'"},
    "marts.indicators": {
        "breakdown": "VARCHAR DEFAULT '_T'",
        "preferred": "BOOLEAN",
        "conf_status": "VARCHAR",
        "suppression": "VARCHAR",
        "base_count": "BIGINT",
        "comment": "VARCHAR",
        "source_rows": "VARCHAR[]",
        "weight_sum": "DOUBLE",
    },
    "core.census_indicators": {
        "area_level": "VARCHAR",
        "base_count": "BIGINT",
        "basis": "VARCHAR",
        "obs_status": "VARCHAR",
        "conf_status": "VARCHAR",
        "suppression": "VARCHAR",
        "comment": "VARCHAR",
        "weight_sum": "DOUBLE",
    },
}
#: Columns renamed since the first release: (table, old name, new name).
RENAMED_COLUMNS = (("marts.indicators", "quality_flag", "obs_status"),)


def ensure_schema(con: duckdb.DuckDBPyConnection) -> None:
    """Create every schema and table that does not exist yet, and add newer columns."""
    con.execute(DDL)
    for table, old, new in RENAMED_COLUMNS:
        schema, name = table.split(".")
        columns = {
            row[0]
            for row in con.execute(
                "SELECT column_name FROM information_schema.columns "
                "WHERE table_schema = ? AND table_name = ?",
                [schema, name],
            ).fetchall()
        }
        if old in columns and new not in columns:
            con.execute(f"ALTER TABLE {table} RENAME COLUMN {old} TO {new}")
    for table, columns in ADDED_COLUMNS.items():
        for name, kind in columns.items():
            con.execute(f"ALTER TABLE {table} ADD COLUMN IF NOT EXISTS {name} {kind}")


@cache
def column_descriptions() -> dict[str, str]:
    """Column name -> what it holds (warehouse/column_descriptions.yaml)."""
    path = Path(__file__).parent / "column_descriptions.yaml"
    return dict(read_yaml(path)["columns"])
