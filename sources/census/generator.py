"""Seeded synthetic census, at any size, written by DuckDB in the codebook's own coding.

Calibrated to the bundled data: WDI population (weights), UN DESA immigrant stock and its female
share (foreign-born share), World Bank bilateral matrices (origins of immigrants, destinations of
emigrants), ISO 3166-2 regions and provinces with the codebook's regional populations. Every
value is SYNTHETIC. The draw for person i depends on (seed, i) only, so a larger census extends a
smaller one and the same seed gives the same file.
"""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd

from sources.atomic import atomic_path
from sources.census.codebook import Codebook
from sources.geography import m49_from_code
from sources.publishers.files import default_observations


def _harmonised(source_id: str) -> pd.DataFrame:
    return default_observations(source_id)


def calibration(codebook: Codebook) -> dict:
    """Figures the generator draws from, taken from the bundled real data."""
    iso3 = codebook.country
    ims = _harmonised("un_desa_ims")
    stock = ims[
        (ims.series == "IMS_STOCK")
        & (ims.ref_area == iso3)
        & (ims.sex == "_T")
        & (ims.time_period == "2015")
    ].obs_value.item()
    pop = (
        ims[
            (ims.series == "IMS_POP")
            & (ims.ref_area == iso3)
            & (ims.sex == "_T")
            & (ims.time_period == "2015")
        ].obs_value.item()
        * 1000
    )
    female = (
        ims[
            (ims.series == "IMS_FEMALE_PCT") & (ims.ref_area == iso3) & (ims.time_period == "2015")
        ].obs_value.item()
        / 100
    )
    wdi = _harmonised("wdi_population")
    population = wdi[(wdi.ref_area == iso3) & (wdi.time_period == str(codebook.census_round))]
    matrix = _harmonised("wb_bilateral_migration")
    known = matrix.counterpart_area.str.len() == 3
    origins = matrix[
        (matrix.counterpart_area == iso3)
        & (matrix.ref_area.str.len() == 3)
        & (matrix.ref_area != "WLD")
        & (matrix.obs_value > 0)
    ]
    destinations = matrix[(matrix.ref_area == iso3) & known & (matrix.obs_value > 0)]
    return {
        "foreign_born_share": stock / pop,
        "female_share_of_immigrants": female,
        "population": float(population.obs_value.item()),
        "origins": origins.nlargest(15, "obs_value").set_index("ref_area").obs_value,
        "destinations": destinations.nlargest(15, "obs_value")
        .set_index("counterpart_area")
        .obs_value,
    }


def _country_code(codebook: Codebook, iso3: str, variable: str) -> str:
    kind = codebook.persons[variable].codes
    return str(m49_from_code(iso3)) if kind == "m49" else f"'{iso3}'"


def _draw_table(con, name: str, weights: pd.Series, codebook: Codebook, variable: str) -> None:
    """A table (code, lo, hi) to draw a source code with probability proportional to weight."""
    shares = weights / weights.sum()
    hi = shares.cumsum()
    codes = [_country_code(codebook, c, variable).strip("'") for c in shares.index]
    numeric = codebook.persons[variable].codes == "m49"
    frame = pd.DataFrame(
        {
            "code": [int(c) for c in codes] if numeric else codes,
            "lo": (hi - shares).to_numpy(),
            "hi": hi.to_numpy(),
        }
    )
    con.register(f"{name}_frame", frame)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {name} AS SELECT * FROM {name}_frame")


def generate_census(
    codebook: Codebook,
    persons: int,
    out_dir: Path,
    seed: int = 2014,
    con: duckdb.DuckDBPyConnection | None = None,
) -> dict[str, Path]:
    """Write persons and members-abroad files for `codebook`; returns their paths."""
    cal = calibration(codebook)
    own = con or duckdb.connect()
    out_dir.mkdir(parents=True, exist_ok=True)
    region_codes = {v: int(k) for k, v in codebook.persons_codes("region").items()}
    provinces = codebook.persons_codes("province")
    regions = pd.Series(codebook.calibration["region_population"], dtype="float64")
    region_table = pd.DataFrame(
        {
            "region_code": [region_codes[c] for c in regions.index],
            "lo": (regions.cumsum() - regions).to_numpy() / regions.sum(),
            "hi": regions.cumsum().to_numpy() / regions.sum(),
        }
    )
    region_table["provinces"] = [
        sorted(int(k) for k in provinces if int(k) // 100 == code)
        for code in region_table.region_code
    ]
    own.register("region_frame", region_table)
    own.execute("CREATE OR REPLACE TEMP TABLE regions AS SELECT * FROM region_frame")
    _draw_table(own, "origins", cal["origins"], codebook, "birth_country")
    _draw_table(own, "destinations", cal["destinations"], codebook, "birth_country")
    home = _country_code(codebook, codebook.country, "birth_country")
    quote = "'" if home.startswith("'") else ""
    year = codebook.census_round
    pph = codebook.calibration["persons_per_household"]
    p_abroad = codebook.calibration["households_with_member_abroad"]
    v = {name: var.variable for name, var in codebook.persons.items()}
    u = lambda k: f"((hash(i, {seed}, {k}) % 1000003) / 1000003.0)"  # noqa: E731
    persons_sql = f"""
    WITH base AS (
        SELECT i, CAST(floor(i / {pph}) AS BIGINT) AS hh,
               {u(1)} AS u_fb, {u(2)} AS u_sex, {u(3)} AS u_age, {u(4)} AS u_orig,
               {u(5)} AS u_cit, {u(6)} AS u_arr, {u(7)} AS u_move, {u(8)} AS u_move_to,
               {u(9)} AS u_birth, {u(10)} AS u_edu, {u(11)} AS u_act, {u(12)} AS u_prov
        FROM range({persons}) t(i)
    ), drawn AS (
        SELECT b.*, ((hash(hh, {seed}, 99) % 1000003) / 1000003.0) AS u_region,
               u_fb < {cal["foreign_born_share"]} AS foreign_born,
               CAST(floor(90 * pow(u_age, 1.35)) AS INTEGER) AS age
        FROM base b
    )
    SELECT i + 1 AS "{v["person_id"]}", hh + 1 AS "{v["household_id"]}",
           CASE WHEN i = 0 OR hh <> CAST(floor((i - 1) / {pph}) AS BIGINT) THEN 1
                ELSE 2 END AS "{v["is_head"]}",
           {cal["population"] / persons} AS "{v["weight"]}",
           CASE WHEN u_sex < (CASE WHEN foreign_born THEN {cal["female_share_of_immigrants"]}
                ELSE 0.505 END) THEN 2 ELSE 1 END AS "{v["sex"]}",
           age AS "{v["age"]}",
           CASE WHEN foreign_born THEN o.code ELSE {home} END AS "{v["birth_country"]}",
           CASE WHEN foreign_born AND u_cit < 0.8 THEN o.code ELSE {home} END
               AS "{v["citizenship"]}",
           CASE WHEN foreign_born THEN {year} - CAST(floor(u_arr * least(age + 1, 30)) AS INTEGER)
                ELSE 0 END AS "{v["arrival_year"]}",
           CASE WHEN age < 5 THEN {quote}{"-" if quote else 0}{quote}
                WHEN foreign_born AND u_arr * least(age + 1, 30) < 5 THEN o.code
                WHEN NOT foreign_born AND u_move < 0.004 THEN d.code
                ELSE {home} END AS "{v["residence_5y_country"]}",
           CASE WHEN age < 5 OR (foreign_born AND u_arr * least(age + 1, 30) < 5)
                     OR (NOT foreign_born AND u_move < 0.004) THEN 0
                WHEN u_move < 0.034 THEN mr.region_code
                ELSE r.region_code END AS "{v["residence_5y_region"]}",
           r.region_code AS "{v["region"]}",
           r.provinces[1 + CAST(floor(u_prov * len(r.provinces)) AS INTEGER)] AS "{v["province"]}",
           CASE WHEN foreign_born THEN 0 WHEN u_birth < 0.85 THEN r.region_code
                ELSE br.region_code END AS "{v["birth_region"]}",
           CASE WHEN age < 6 THEN 0
                ELSE CAST(floor(pow(u_edu, CASE WHEN foreign_born THEN 0.8 ELSE 1.1 END) * 7)
                          AS INTEGER) END AS "{v["education"]}",
           CASE WHEN age < 15 OR age > 70 THEN 3
                WHEN u_act < (CASE WHEN u_sex < 0.5 THEN 0.3 ELSE 0.62 END) THEN 1
                WHEN u_act < (CASE WHEN u_sex < 0.5 THEN 0.34 ELSE 0.68 END) THEN 2
                ELSE 3 END AS "{v["activity"]}"
    FROM drawn
    JOIN regions r ON u_region >= r.lo AND u_region < r.hi
    JOIN regions mr ON u_move_to >= mr.lo AND u_move_to < mr.hi
    JOIN regions br ON greatest(u_birth - 0.85, 0) / 0.15 >= br.lo
                   AND greatest(u_birth - 0.85, 0) / 0.15 < br.hi
    LEFT JOIN origins o ON u_orig >= o.lo AND u_orig < o.hi
    LEFT JOIN destinations d ON u_move_to >= d.lo AND u_move_to < d.hi
    """
    a = {name: var.variable for name, var in codebook.members_abroad.items()}
    households = int(persons / pph) + 1
    abroad_sql = f"""
    WITH h AS (
        SELECT hh, k, ((hash(hh, {seed}, 200 + k) % 1000003) / 1000003.0) AS u
        FROM range({households}) t(hh), range(2) s(k)
    )
    SELECT hh + 1 AS "{a["household_id"]}",
           CASE WHEN ((hash(hh, k, {seed}, 301) % 1000003) / 1000003.0) < 0.6 THEN 1 ELSE 2 END
               AS "{a["sex"]}",
           18 + CAST(floor(u * 37) AS INTEGER) AS "{a["age"]}",
           d.code AS "{a["destination"]}",
           {year} - CAST(floor(((hash(hh, k, {seed}, 302) % 1000003) / 1000003.0) * 15)
                         AS INTEGER) AS "{a["departure_year"]}"
    FROM h JOIN destinations d
         ON ((hash(hh, k, {seed}, 303) % 1000003) / 1000003.0) >= d.lo
        AND ((hash(hh, k, {seed}, 303) % 1000003) / 1000003.0) < d.hi
    WHERE (k = 0 AND u < {p_abroad}) OR (k = 1 AND u < {p_abroad * 0.3})
    """
    ext = codebook.format if codebook.format in ("parquet", "csv") else "parquet"
    paths = {
        "persons": out_dir / f"{codebook.id}_persons.{ext}",
        "members_abroad": out_dir / f"{codebook.id}_members_abroad.{ext}",
    }
    options = "FORMAT parquet, COMPRESSION zstd" if ext == "parquet" else "FORMAT csv, HEADER"
    # Each file is written under a temporary name and renamed: a killed run never leaves a
    # half-written census where a complete one is expected (members abroad first, persons last).
    for key, sql in (("members_abroad", abroad_sql), ("persons", persons_sql)):
        with atomic_path(paths[key]) as temp:
            own.execute(f"COPY ({sql}) TO '{temp}' ({options})")
    if con is None:
        own.close()
    return paths
