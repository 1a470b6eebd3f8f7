"""Computing every catalogue indicator for every country and period in the core layer.

An indicator's rows come from its method (international sources) and from every national
series a source spec declares as feeding it. Where two sources give the same indicator for the
same area, period and breakdown, the catalogue's order of sources decides which row is
`preferred`; the others stay as alternative series.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import pandas as pd

from indicators.catalogue import CENSUS, NATIONAL_ONLY, Indicator, catalogue
from indicators.flags import apply_flags
from indicators.methods import METHODS, ROW
from indicators.overlaps import compute_overlaps, flag_series_breaks
from indicators.totals import add_computed_totals
from sources.i18n import N_
from sources.observations import OBSERVATION_KEY
from sources.specs import SDG_FEED, SourceSpec, bundled_specs
from warehouse.db import transaction
from warehouse.schema import INDICATOR_KEY

FEED_SQL = """
    SELECT '{id}' AS indicator_id, series, ref_area, counterpart_area, time_period, sex, age,
           migrant_status, breakdown, obs_value * power(10, unit_mult) AS obs_value,
           unit_measure, 0 AS unit_mult, [source_id] AS source_ids, [batch_id] AS batch_ids,
           NULL AS denominator_source, basis, type_of_data, obs_status,
           [{ROW}] AS source_rows
    FROM core.observations WHERE source_id = $source AND series = $series {where}
""".replace("{ROW}", ROW)


CENSUS_SQL = """
    SELECT '{id}' AS indicator_id, series, ref_area, counterpart_area, time_period, sex, age,
           migrant_status, breakdown, obs_value, unit_measure, 0 AS unit_mult,
           [source_id] AS source_ids, [batch_id] AS batch_ids, NULL AS denominator_source,
           basis, NULL AS type_of_data, obs_status, conf_status, suppression, base_count,
           weight_sum, comment
    FROM core.census_indicators WHERE list_contains($series, series)
"""


def indicator_queries(indicator: Indicator, specs: dict[str, SourceSpec]) -> list[tuple[str, dict]]:
    """(SQL, parameters) for each part of an indicator: its method, then its national feeds."""
    queries = []
    if indicator.method == CENSUS:
        return [(CENSUS_SQL.replace("{id}", indicator.id), {"series": list(indicator.series)})]
    if indicator.method != NATIONAL_ONLY:
        queries.append((METHODS[indicator.method].replace("{id}", indicator.id), {}))
    feeds = {
        (spec.id, measure.series, tuple(sorted(feed.where.items())))
        for spec in specs.values()
        for measure in spec.measures.values()
        for feed in measure.feeds
        if feed.indicator == indicator.id
        or (indicator.sdg_indicator and feed.indicator == f"{SDG_FEED}{indicator.sdg_indicator}")
    }  # several columns of one series (men, women) feed it once
    for source, series, where_items in sorted(feeds):
        params = {"source": source, "series": series}
        where = ""
        for n, (dimension, code) in enumerate(where_items):
            where += f" AND {dimension} = $w{n}"
            params[f"w{n}"] = code
        queries.append((FEED_SQL.replace("{id}", indicator.id).format(where=where), params))
    return queries


OLDER = "~older-edition"


def _older_editions(con: duckdb.DuckDBPyConnection, indicators: tuple[Indicator, ...]) -> None:
    """Each indicator as an older edition of a release gave it, where a newer edition revised
    the inputs: the method is run over core as that edition had it, and the rows that used the
    older values are staged as alternatives (never preferred)."""
    key = ", ".join(["source_id", *OBSERVATION_KEY])
    older = con.execute(
        "SELECT DISTINCT batch_id FROM core.superseded_observations ORDER BY 1"
    ).fetchall()
    for (batch_id,) in older:
        quoted = batch_id.replace("'", "''")
        con.execute(
            f"""
            CREATE OR REPLACE TEMP VIEW edition_observations AS
            SELECT * FROM core.observations
            ANTI JOIN (SELECT {key} FROM core.superseded_observations
                       WHERE batch_id = '{quoted}') USING ({key})
            UNION ALL BY NAME
            SELECT * EXCLUDE (superseded_by, batch_id), batch_id || '{OLDER}' AS batch_id
            FROM core.superseded_observations WHERE batch_id = '{quoted}'
            """
        )
        for indicator in indicators:
            if indicator.method in (CENSUS, NATIONAL_ONLY):
                continue
            sql = (
                METHODS[indicator.method]
                .replace("{id}", indicator.id)
                .replace("core.observations", "edition_observations")
            )
            # only the rows that used an older value: they carry the marked batch id
            con.execute(
                "INSERT INTO staged_indicators BY NAME SELECT * REPLACE ("
                f"list_transform(batch_ids, lambda b: replace(b, '{OLDER}', '')) AS batch_ids, "
                f"list_transform(source_rows, lambda b: replace(b, '{OLDER}', '')) "
                "AS source_rows), "
                f"true AS edition_alternative FROM ({sql}) "
                "WHERE list_contains(batch_ids, $batch)",
                {"batch": batch_id + OLDER},
            )
    con.execute("DROP VIEW IF EXISTS edition_observations")


def hold_back_conflicts(
    con: duckdb.DuckDBPyConnection, specs: dict[str, SourceSpec]
) -> list[tuple[str, str, str, str]]:
    """Two sources giving one indicator the same series for the same key (two specs declaring
    one series code, a spec reusing a publisher's code) cannot both be right: the rows of the
    sources involved are taken out of that indicator, the publishers' kept where a ministry
    spec collides with them. Returns (source id, country, item, reason) for meta.held_back."""
    key = ", ".join(INDICATOR_KEY)
    clashes = con.execute(
        f"""
        SELECT indicator_id, series, list(DISTINCT source_ids[1] ORDER BY source_ids[1]),
               count(*), any_value(ref_area), any_value(time_period),
               list(source_rows[1] ORDER BY source_ids[1])[:4]
        FROM staged_indicators WHERE NOT edition_alternative
        GROUP BY {key} HAVING count(*) > 1
        """
    ).fetchall()
    found: dict[tuple[str, str], dict] = {}
    for indicator_id, series, sources, _, area, period, examples in clashes:
        national = [s for s in sources if s in specs]
        held = national or sources
        for source in held:
            entry = found.setdefault(
                (indicator_id, source),
                {"series": series, "with": set(), "keys": 0, "example": (area, period, examples)},
            )
            entry["with"] |= set(sources) - {source}
            entry["keys"] += 1
    records = []
    for (indicator_id, source), entry in sorted(found.items()):
        con.execute(
            "DELETE FROM staged_indicators WHERE indicator_id = ? AND source_ids[1] = ?",
            [indicator_id, source],
        )
        area, period, examples = entry["example"]
        others = ", ".join(sorted(entry["with"])) or source
        where = f"{area} {period}" + (f", rows {', '.join(map(str, examples))}" if examples else "")
        reason = N_(
            "{source} gives series {series} of {indicator} for the same keys as {others} "
            "({keys} key(s), e.g. {where}); its values of {indicator} are held back: give each "
            "dataset a series code of its own"
        ).format(
            source=source,
            series=entry["series"],
            indicator=indicator_id,
            others=others,
            keys=entry["keys"],
            where=where,
        )
        country = specs[source].country if source in specs else None
        records.append((source, country, source, reason))
    return records


def record_conflicts(con: duckdb.DuckDBPyConnection, records: list[tuple]) -> None:
    """What the conflicts held back, under the origin `indicators` in meta.held_back."""
    from warehouse.held_back import replace_held_back

    replace_held_back(con, "indicators", records)


def compute_indicators(
    con: duckdb.DuckDBPyConnection,
    indicators: Iterable[Indicator] | None = None,
    specs: dict[str, SourceSpec] | None = None,
) -> dict[str, int]:
    """Rebuild marts.indicators in one transaction; returns rows per indicator id."""
    indicators = tuple(indicators or catalogue())
    specs = bundled_specs() if specs is None else specs
    ranks = pd.DataFrame(
        [(i.id, source, rank) for i in indicators for rank, source in enumerate(i.sources)],
        columns=["indicator_id", "source_id", "source_rank"],
    )
    partition = ", ".join([*INDICATOR_KEY[:1], *INDICATOR_KEY[2:], "unit_measure"])
    with transaction(con):
        con.execute(
            "CREATE OR REPLACE TEMP TABLE staged_indicators AS "
            "SELECT * EXCLUDE (source_vintages, preferred) FROM marts.indicators LIMIT 0"
        )
        con.execute(
            "ALTER TABLE staged_indicators ADD COLUMN edition_alternative BOOLEAN DEFAULT false"
        )
        for indicator in indicators:
            for sql, params in indicator_queries(indicator, specs):
                con.execute(f"INSERT INTO staged_indicators BY NAME SELECT * FROM ({sql})", params)
        _older_editions(con, indicators)
        record_conflicts(con, hold_back_conflicts(con, specs))
        con.execute("UPDATE staged_indicators SET breakdown = '_T' WHERE breakdown IS NULL")
        con.execute("DELETE FROM marts.indicators")
        con.register("source_ranks", ranks)
        con.execute(
            f"""
            INSERT INTO marts.indicators BY NAME
            WITH vintages AS (
                SELECT list(batch_id) AS ids, list(source_id || ': ' || coalesce(vintage, '?')
                       || ' (sha256 ' || left(sha256, 12) || ')') AS labels
                FROM meta.batches
            ),
            ranked AS (
                SELECT s.* EXCLUDE (edition_alternative),
                       -- sources compete; the series of one source are distinct measures
                       dense_rank() OVER (
                           PARTITION BY {partition.replace("indicator_id", "s.indicator_id")}
                           ORDER BY coalesce(r.source_rank, 99), s.edition_alternative,
                                    s.source_ids[1]
                       ) = 1 AS preferred
                FROM (SELECT * EXCLUDE (edition_alternative),
                             coalesce(edition_alternative, false) AS edition_alternative
                      FROM staged_indicators) s
                LEFT JOIN source_ranks r
                    ON r.indicator_id = s.indicator_id AND r.source_id = s.source_ids[1]
            )
            -- the editions each value rests on, looked up after the ranking: carried through
            -- the window, the lists of every batch made that step several times slower
            SELECT ranked.*,
                   list_sort(list_transform(ranked.batch_ids,
                       lambda b: v.labels[list_position(v.ids, b)])) AS source_vintages
            FROM ranked CROSS JOIN vintages v
            """
        )
        flag_series_breaks(con)
        apply_flags(con, indicators)
        add_computed_totals(con)
        compute_overlaps(con, indicators)
        con.unregister("source_ranks")
        con.execute("DROP TABLE staged_indicators")
        counts = dict(
            con.execute("SELECT indicator_id, count(*) FROM marts.indicators GROUP BY 1").fetchall()
        )
    return {i.id: counts.get(i.id, 0) for i in indicators}
