"""Census ingestion: the file streams through DuckDB (never pandas), is recoded by its codebook,
and lands as Parquet partitioned by country and census round, with views over it."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from indicators.census_queries import CensusPartition
from sources.atomic import atomic_path, temporary_name
from sources.census.codebook import (
    ABROAD_VARIABLES,
    PERSON_VARIABLES,
    Codebook,
    CodebookError,
    Variable,
    census_source_id,
)
from sources.geography import areas, known_codes
from warehouse.census_profile import ORIGIN_REGION, profile_sql
from warehouse.census_profile import decoded as profile_parts


@dataclass(frozen=True)
class CensusLoad:
    codebook_id: str
    persons: int
    members_abroad: int
    parquet_dir: str


def _relation(path: Path) -> str:
    """DuckDB reads Parquet and CSV itself; Stata and SPSS files are first copied to Parquet
    in chunks (their readers are row-oriented)."""
    suffix = path.suffix.lower()
    if suffix == ".parquet":
        return f"read_parquet('{path}')"
    if suffix == ".csv":
        return f"read_csv('{path}', header=true, all_varchar=false)"
    if suffix in (".dta", ".sav"):
        return f"read_parquet('{_to_parquet(path)}')"
    raise CodebookError(f"{path}: census files are .parquet, .csv, .dta or .sav")


def _to_parquet(path: Path, chunk: int = 500_000) -> Path:
    import pyarrow as pa
    import pyarrow.parquet as pq

    target = path.with_suffix(path.suffix + ".parquet")
    if path.suffix.lower() == ".dta":
        chunks = pd.read_stata(path, chunksize=chunk, convert_categoricals=False)
    else:
        import pyreadstat

        chunks = (
            frame
            for frame, _ in pyreadstat.read_file_in_chunks(
                pyreadstat.read_sav, str(path), chunksize=chunk
            )
        )
    writer = None
    for frame in chunks:
        for column in frame.columns:  # SPSS keeps every number as a double: 1.0 is code 1
            values = frame[column]
            if values.dtype.kind == "f" and (values.dropna() % 1 == 0).all():
                frame[column] = values.astype("Int64")
        table = pa.Table.from_pandas(frame, preserve_index=False)
        writer = writer or pq.ParquetWriter(target, table.schema)
        writer.write_table(table)
    if writer:
        writer.close()
    return target


def _enum(values) -> str:
    """An anonymous DuckDB ENUM over `values`: coded text is written to Parquet as a dictionary
    without materialising a string per row (several times faster than VARCHAR)."""
    return "ENUM(" + ", ".join(_quote(v) for v in sorted(set(values))) + ")"


def _quote(value) -> str:
    return "'" + str(value).replace("'", "''") + "'"


def _code_tables(con: duckdb.DuckDBPyConnection) -> None:
    m49 = areas().dropna(subset=["m49"])
    con.register(
        "m49_frame", pd.DataFrame({"src": m49["m49"].astype(int).astype(str), "value": m49["code"]})
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE codes_m49 AS "
        f"SELECT src, CAST(value AS {_enum(m49['code'])}) AS value FROM m49_frame"
    ).fetchall()
    con.unregister("m49_frame")


def _code_key(value, numeric: bool) -> str:
    """A source code as the codebook writes it: 1, 1.0 and '1' are the same numeric code."""
    if numeric:
        number = float(value)
        return str(int(number)) if number.is_integer() else str(number)
    return str(value)


def _known_codes(codebook: Codebook, var: Variable, numeric: bool) -> frozenset[str]:
    if var.codes == "m49":
        return frozenset(str(int(m)) for m in areas()["m49"].dropna())
    if var.codes == "iso3":
        return known_codes()
    return frozenset(_code_key(k, numeric) for k in codebook.code_table(var))


def _select(
    con,
    codebook: Codebook,
    relation: str,
    block: dict[str, Variable],
    canonical: dict[str, str],
    path: Path,
) -> str:
    types = {r[0]: r[1] for r in con.execute(f"DESCRIBE SELECT * FROM {relation}").fetchall()}
    missing = sorted(
        f"{v.variable} ({name})" for name, v in block.items() if v.variable not in types
    )
    if missing:
        raise CodebookError(f"{path}: variables missing for codebook {codebook.id}: {missing}")
    selects, joins, coded = [], [], []
    for n, (name, var) in enumerate(block.items()):
        column = f's."{var.variable}"'
        numeric = types[var.variable] != "VARCHAR"
        literal = _literal(numeric)
        is_missing = (
            f"{column} IN ({', '.join(literal(m) for m in var.missing)})" if var.missing else None
        )
        text = canonical[name] == "VARCHAR"
        table = codebook.code_table(var)
        if var.codes == "m49":  # about 250 codes: a hash join on the file's own type
            kind = "INTEGER" if numeric else "VARCHAR"
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE codes_m49_{kind} AS "
                f"SELECT CAST(src AS {kind}) AS src, value FROM codes_m49"
            ).fetchall()
            joins.append(f"LEFT JOIN codes_m49_{kind} c{n} ON c{n}.src = {column}")
            value = f"c{n}.value"
        elif var.codes == "iso3":
            value = f"TRY_CAST({column} AS {_enum(known_codes())})"
        elif table is not None:  # a short list: CASE, vectorised, no join
            kind = _enum(table.values()) if text else canonical[name]
            branches = " ".join(
                f"WHEN {literal(k)} THEN CAST({_quote(v)} AS {kind})" for k, v in table.items()
            )
            value = f"CASE {column} {branches} END"
        else:
            value = f"CAST({column} AS {canonical[name]})"
        if var.codes is not None:
            coded.append((name, var, column, is_missing, numeric))
        if is_missing:
            value = f"CASE WHEN {is_missing} THEN NULL ELSE {value} END"
        selects.append(f"{value} AS {name}")
    _unknown_codes(con, codebook, relation, coded, path)
    return (
        f"SELECT '{codebook.country}' AS country, {codebook.census_round} AS census_round, "
        + ", ".join(selects)
        + f" FROM {relation} s "
        + " ".join(joins)
    )


def _literal(numeric: bool):
    """How a code is written in SQL against a numeric or a text column."""

    def write(code) -> str:
        if numeric:
            return str(float(code)) if "." in str(code) else str(int(float(code)))
        return _quote(code)

    return write


def _unknown_codes(
    con,
    codebook: Codebook,
    relation: str,
    coded: list[tuple[str, Variable, str, str | None, bool]],
    path: Path,
) -> None:
    """One scan lists the distinct codes of every coded variable (a few hundred at most); any the
    codebook lacks are then counted and reported together."""
    if not coded:
        return
    lists = ", ".join(
        f"list(DISTINCT {column})" + (f" FILTER (WHERE NOT ({is_missing}))" if is_missing else "")
        for _, _, column, is_missing, _ in coded
    )
    found = con.execute(f"SELECT {lists} FROM {relation} s").fetchall()[0]
    problems = []
    for (name, var, column, _, numeric), values in zip(coded, found, strict=True):
        known = _known_codes(codebook, var, numeric)
        unknown = sorted(
            (v for v in values or [] if v is not None and _code_key(v, numeric) not in known),
            key=str,
        )
        if unknown:
            listed = ", ".join(_literal(numeric)(v) for v in unknown)
            rows = con.execute(
                f"SELECT count(*) FROM {relation} s WHERE {column} IN ({listed})"
            ).fetchall()[0][0]
            problems.append(
                f"variable {var.variable} ({name}) has {rows:,} row(s) with codes not in "
                f"codebook {codebook.id}, e.g. {_code_key(unknown[0], numeric)!r}"
            )
    if problems:
        raise CodebookError(f"{path}: " + "; ".join(problems))


def ingest_census(
    con: duckdb.DuckDBPyConnection,
    codebook: Codebook,
    persons: Path,
    members_abroad: Path | None,
    census_dir: Path,
) -> CensusLoad:
    """Recode and write the census to `census_dir/<table>/country=../census_round=../`."""
    _code_tables(con)
    counts = {}
    folder = f"country={codebook.country}/census_round={codebook.census_round}"
    if members_abroad is None:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE abroad_households (household_id BIGINT)"
        ).fetchall()
    for table, path, block, canonical in (
        ("members_abroad", members_abroad, codebook.members_abroad, ABROAD_VARIABLES),
        ("persons", persons, codebook.persons, PERSON_VARIABLES),
    ):
        if path is None:
            continue
        sql = _select(con, codebook, _relation(path), block, canonical, path)
        if table == "persons":  # derived once here, read by every indicator run
            sql = (
                f"SELECT *, {ORIGIN_REGION} AS origin_region, {profile_sql()} AS profile "
                f"FROM ({sql})"
            )
        # One census is one partition: write it straight into its hive folder (the partition
        # columns come back from the path when read).
        target = census_dir / table / folder
        target.mkdir(parents=True, exist_ok=True)
        staging = temporary_name(target / f"{codebook.id}.parquet")
        counts[table] = con.execute(
            f"COPY (SELECT * EXCLUDE (country, census_round) FROM ({sql})) TO '{staging}' "
            "(FORMAT parquet, COMPRESSION snappy)"
        ).fetchall()[0][0]
        if table == "persons":
            _write_area_hierarchy(con, staging, census_dir / "areas" / folder, codebook, persons)
        staging.replace(target / f"{codebook.id}.parquet")
        if table == "members_abroad":
            con.execute(
                "CREATE OR REPLACE TEMP TABLE abroad_households AS SELECT DISTINCT household_id "
                f"FROM read_parquet('{target / (codebook.id + '.parquet')}')"
            ).fetchall()
    expose_census(con, census_dir)
    return CensusLoad(
        codebook.id, counts.get("persons", 0), counts.get("members_abroad", 0), str(census_dir)
    )


def _write_area_hierarchy(
    con: duckdb.DuckDBPyConnection, staging: Path, folder: Path, codebook: Codebook, path: Path
) -> None:
    """Each province's region, written beside the census: indicator passes then group by
    province alone. A province found in two regions stops the load."""
    rows = con.execute(
        f"SELECT province, min(region), count(DISTINCT region), list(DISTINCT region) "
        f"FROM read_parquet('{staging}') WHERE province IS NOT NULL GROUP BY province"
    ).fetchall()
    split = [f"{p} in {sorted(r)}" for p, _, k, r in rows if k > 1]
    if split:
        staging.unlink(missing_ok=True)
        raise CodebookError(
            f"{path}: provinces in more than one region for codebook {codebook.id}: "
            + "; ".join(split[:5])
        )
    folder.mkdir(parents=True, exist_ok=True)
    con.register("area_pairs", pd.DataFrame(rows, columns=["province", "region", "k", "all"]))
    with atomic_path(folder / f"{codebook.id}.parquet") as temp:
        con.execute(
            f"COPY (SELECT province, region FROM area_pairs) TO '{temp}' (FORMAT parquet)"
        ).fetchall()
    con.unregister("area_pairs")


def expose_census(con: duckdb.DuckDBPyConnection, census_dir: Path) -> None:
    """Views census.persons and census.members_abroad over the partitioned Parquet, and the
    table census.person_partitions (country, census_round, files, areas: the province ->
    region file, members_abroad)."""
    con.execute("CREATE SCHEMA IF NOT EXISTS census")
    for table in ("persons", "members_abroad"):
        files = census_dir / table
        if any(files.glob("**/*.parquet")):
            decoded = "".join(
                f", {sql} AS {name}" for name, sql in profile_parts().items() if name != "sex"
            )
            con.execute(
                f"CREATE OR REPLACE VIEW census.{table} AS SELECT *"
                f"{decoded if table == 'persons' else ''} FROM "
                f"read_parquet('{files}/**/*.parquet', hive_partitioning = true)"
            )
    # Each census's own files, for passes that read one partition at a time (faster than
    # deriving country and round from the folder names on every row).
    con.execute(
        "CREATE OR REPLACE TABLE census.person_partitions (country VARCHAR, "
        "census_round INTEGER, files VARCHAR, areas VARCHAR, members_abroad VARCHAR)"
    )
    for partition in census_partitions(census_dir):
        con.execute(
            "INSERT INTO census.person_partitions VALUES (?, ?, ?, ?, ?)",
            [
                partition.country,
                partition.census_round,
                partition.persons,
                partition.areas,
                partition.members_abroad,
            ],
        )


def census_partitions(
    census_dir: Path, wanted: set[tuple[str, int]] | None = None
) -> list[CensusPartition]:
    """Each census under `census_dir` (or those of `wanted`, as (country, round)) with the files
    of its persons, its province -> region list and its members abroad."""

    def files(table: str, folder: Path) -> str | None:
        where = census_dir / table / folder.parent.name / folder.name
        return str(where / "*.parquet") if any(where.glob("*.parquet")) else None

    found = []
    for folder in sorted((census_dir / "persons").glob("country=*/census_round=*")):
        country = folder.parent.name.split("=", 1)[1]
        census_round = int(folder.name.split("=", 1)[1])
        if (wanted is not None and (country, census_round) not in wanted) or not any(
            folder.glob("*.parquet")
        ):
            continue
        found.append(
            CensusPartition(
                country,
                census_round,
                str(folder / "*.parquet"),
                files("areas", folder),
                files("members_abroad", folder),
            )
        )
    return found


#: Row-level rules on the person table, in SQL: they scan Parquet, never pandas.
CENSUS_SQL_RULES = {
    "census_ages_plausible": (
        "ages lie within 0-120",
        "SELECT person_id FROM census.persons WHERE age NOT BETWEEN 0 AND 120",
    ),
    "census_weights_positive": (
        "weights are positive",
        "SELECT person_id FROM census.persons WHERE weight <= 0",
    ),
    "census_unique_persons": (
        "one row per person",
        "SELECT country, census_round, person_id FROM census.persons GROUP BY ALL "
        "HAVING count(*) > 1",
    ),
}


def census_sql_outcomes(con: duckdb.DuckDBPyConnection) -> list:
    from warehouse.core_checks import sql_outcomes

    return sql_outcomes(con, CENSUS_SQL_RULES)


def load_census(
    con: duckdb.DuckDBPyConnection,
    codebook: Codebook,
    persons: Path,
    members_abroad: Path | None,
    census_dir: Path,
) -> tuple[str, str]:
    """Ingest a census file once per content (SHA-256), recorded in meta.batches; returns
    (batch_id, 'loaded' or 'unchanged')."""
    from datetime import UTC, datetime

    from warehouse.batches import batch_id_for, existing_batch, file_sha256

    source_id = census_source_id(codebook)
    sha = file_sha256(persons)
    batch_id = batch_id_for(source_id, sha)
    if existing_batch(con, batch_id) is not None and any(census_dir.glob("persons/**/*.parquet")):
        expose_census(con, census_dir)
        return batch_id, "unchanged"
    load = ingest_census(con, codebook, persons, members_abroad, census_dir)
    con.execute("DELETE FROM meta.batches WHERE batch_id = ?", [batch_id]).fetchall()
    con.execute(
        "INSERT INTO meta.batches (batch_id, source_id, file_name, file_path, sha256, size_bytes, "
        "vintage, loaded_at, rows_read, rows_loaded, rows_quarantined, raw_table, validation) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, 'passed')",
        [
            batch_id,
            source_id,
            persons.name,
            str(persons),
            sha,
            persons.stat().st_size,
            f"codebook {codebook.id} (census {codebook.census_round}"
            f"{', synthetic' if codebook.synthetic else ''})",
            datetime.now(UTC).replace(tzinfo=None),
            load.persons,
            load.persons,
            f"{census_dir}/persons",
        ],
    ).fetchall()
    return batch_id, "loaded"


def confidential_cells(con: duckdb.DuckDBPyConnection) -> pd.DataFrame:
    """The census counts earlier editions kept confidential (CELL_KEY columns)."""
    from indicators.census_disclosure import CELL_KEY

    return con.execute(f"SELECT DISTINCT {', '.join(CELL_KEY)} FROM meta.census_confidential").df()


def remember_confidential(
    con: duckdb.DuckDBPyConnection, cells: pd.DataFrame, threshold: int
) -> int:
    """Add this edition's confidential counts to those every later edition keeps hidden."""
    from indicators.census_disclosure import CELL_KEY

    if cells.empty:
        return 0
    key = ", ".join(CELL_KEY)
    con.register("confidential_now", cells[CELL_KEY].astype(str))
    added = con.execute(
        f"""
        INSERT INTO meta.census_confidential BY NAME
        SELECT DISTINCT {key}, $threshold AS first_threshold, now()::TIMESTAMP AS recorded_at
        FROM confidential_now ANTI JOIN meta.census_confidential USING ({key})
        """,
        {"threshold": threshold},
    ).fetchone()[0]
    con.unregister("confidential_now")
    return int(added or 0)


def store_census_indicators(
    con: duckdb.DuckDBPyConnection, cells: pd.DataFrame, batches: dict[str, str]
) -> int:
    """Replace core.census_indicators with `cells` (aggregates only), naming their batch."""
    frame = cells.assign(
        source_id=cells["country"].map(lambda c: f"census_{c.lower()}"),
        batch_id=cells["country"].map(batches),
    )
    con.execute("DELETE FROM core.census_indicators").fetchall()
    con.register("census_cells", frame)
    con.execute("INSERT INTO core.census_indicators BY NAME SELECT * FROM census_cells").fetchall()
    con.unregister("census_cells")
    return len(frame)
