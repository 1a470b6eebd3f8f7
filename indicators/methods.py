"""How each catalogue indicator is computed: one SQL query per method over core.observations.

Every query returns the columns of marts.indicators except `source_vintages` and `preferred`,
which the runner adds; a query without `breakdown` means the total (`_T`). `{id}` is replaced by
the catalogue id.
"""

from __future__ import annotations

from sources.i18n import N_

#: what a count of recorded events is, said beside every value (it carries no SDMX flag)
LOWER_BOUND = N_("recorded deaths and disappearances: a lower bound, not an estimate of all deaths")

WDI_POPULATION = "wdi_population (SP.POP.TOTL)"
#: SQL: the lineage reference of an observation: its batch and its key, `|`-separated.
OBSERVATION_REF = (
    "concat_ws('|', {t}batch_id, {t}series, {t}ref_area, {t}counterpart_area, {t}time_period, "
    "{t}sex, {t}age, {t}migrant_status, {t}education, {t}breakdown)"
)
ROW = OBSERVATION_REF.format(t="")


def _passthrough(
    series_in: str,
    series_out: str,
    unit: str,
    scale: str = "1",
    denominator: str = "NULL",
    period: str = "time_period",
) -> str:
    """One published core series taken as an indicator series, rescaled by `scale`."""
    return f"""
    SELECT '{{id}}' AS indicator_id, '{series_out}' AS series, ref_area, counterpart_area,
           {period} AS time_period, sex, age, migrant_status, breakdown,
           obs_value * {scale} AS obs_value,
           '{unit}' AS unit_measure, 0 AS unit_mult,
           [source_id] AS source_ids, [batch_id] AS batch_ids,
           {denominator} AS denominator_source, basis, type_of_data, obs_status,
           [{ROW}] AS source_rows
    FROM core.observations WHERE series = '{series_in}'
    """


def _refugees(
    by: str, counterpart: str, series: tuple[str, ...] = ("UNHCR_REF", "UNHCR_OIP")
) -> str:
    """UNHCR end-year stocks (by default refugees + other people in need of international
    protection), by country of asylum or by country of origin, total and by the other."""
    wanted = ", ".join(f"'{s}'" for s in series)
    return f"""
    WITH pairs AS (
        SELECT {by} AS area, {counterpart} AS partner, time_period,
               sum(obs_value) AS value, list_distinct(list(source_id)) AS sources,
               list_distinct(list(batch_id)) AS batches,
               list({ROW}) AS rows
        FROM core.observations
        WHERE series IN ({wanted})
        GROUP BY ALL
    ), totals AS (
        SELECT area, '_T' AS partner, time_period, sum(value) AS value,
               list_distinct(flatten(list(sources))) AS sources,
               list_distinct(flatten(list(batches))) AS batches, flatten(list(rows)) AS rows
        FROM pairs GROUP BY ALL
    )
    SELECT '{{id}}' AS indicator_id, '{{id}}' AS series, area AS ref_area,
           partner AS counterpart_area, time_period, '_T' AS sex, '_T' AS age,
           '_T' AS migrant_status, value AS obs_value, 'PS' AS unit_measure, 0 AS unit_mult,
           sources AS source_ids, batches AS batch_ids, NULL AS denominator_source,
           NULL AS basis, NULL AS type_of_data, 'A' AS obs_status, rows AS source_rows
    FROM (SELECT * FROM pairs UNION ALL BY NAME SELECT * FROM totals)
    WHERE area IN (SELECT code FROM core.areas WHERE kind = 'country')
    """


def _missing_migrants(area: str, partner: str, route: str, series: str) -> str:
    """Persons recorded dead or missing (IOM Missing Migrants), summed per year over what is
    not kept: `area` and `partner` are columns (or '_T'), `route` the breakdown (or '_T')."""
    return f"""
    SELECT '{{id}}' AS indicator_id, {series} AS series, {area} AS ref_area,
           {partner} AS counterpart_area, time_period, '_T' AS sex, '_T' AS age,
           '_T' AS migrant_status, {route} AS breakdown, sum(obs_value) AS obs_value,
           'PS' AS unit_measure, 0 AS unit_mult,
           list_distinct(list(source_id)) AS source_ids, list_distinct(list(batch_id)) AS batch_ids,
           NULL AS denominator_source, NULL AS basis, NULL AS type_of_data, 'A' AS obs_status,
           '{LOWER_BOUND}' AS comment, list({ROW}) AS source_rows
    FROM core.observations WHERE series IN ('MMP_DEAD', 'MMP_MISSING')
      AND {area} IN (SELECT code FROM core.areas WHERE kind = 'country')
    GROUP BY ALL
    """


POPULATION = f"""
    population AS (
        SELECT ref_area, time_period, obs_value AS pop, source_id AS pop_source,
               batch_id AS pop_batch, {ROW} AS pop_row
        FROM core.observations WHERE series = 'SP_POP_TOTL'
    )
"""

METHODS: dict[str, str] = {
    "immigrant_stock": _passthrough("IMS_STOCK", "IMM_STOCK", "PS"),
    "immigrant_stock_share": _passthrough(
        "IMS_STOCK_PCT_POP",
        "IMM_STOCK_PCT",
        "PT",
        denominator="'un_desa_ims (Table 2, total population)'",
    ),
    "immigrant_female_share": _passthrough("IMS_FEMALE_PCT", "IMM_FEMALE_PCT", "PT"),
    "immigrant_stock_growth": _passthrough(
        "IMS_GROWTH", "IMM_STOCK_GROWTH", "PT", period="split_part(time_period, '/', 2)"
    ),
    "emigrant_stock": _passthrough("WB_MIG_STOCK_BILAT", "EMI_STOCK", "PS"),
    "emigration_rate": f"""
    WITH {POPULATION}
    SELECT '{{id}}' AS indicator_id, '{{id}}' AS series, e.ref_area, '_T' AS counterpart_area,
           e.time_period, '_T' AS sex, '_T' AS age, '_T' AS migrant_status,
           e.obs_value / (e.obs_value + p.pop) * 100 AS obs_value, 'PT' AS unit_measure,
           0 AS unit_mult, [e.source_id, p.pop_source] AS source_ids,
           [e.batch_id, p.pop_batch] AS batch_ids, '{WDI_POPULATION}' AS denominator_source,
           e.basis, NULL AS type_of_data, e.obs_status,
           [{OBSERVATION_REF.format(t="e.")}, p.pop_row] AS source_rows
    FROM core.observations e JOIN population p USING (ref_area, time_period)
    WHERE e.series = 'WB_MIG_STOCK_BILAT' AND e.counterpart_area = '_T'
    """,
    "refugees_hosted": _refugees("ref_area", "counterpart_area"),
    "refugees_abroad": _refugees("counterpart_area", "ref_area"),
    "asylum_seekers_hosted": _refugees("ref_area", "counterpart_area", ("UNHCR_ASY",)),
    "asylum_seekers_abroad": _refugees("counterpart_area", "ref_area", ("UNHCR_ASY",)),
    "stateless_hosted": _refugees("ref_area", "counterpart_area", ("UNHCR_STA",)),
    "idps_of_concern": _refugees("ref_area", "counterpart_area", ("UNHCR_IDP",)),
    "sdg_10_7_4": f"""
    WITH {POPULATION}, refugees AS (
        SELECT counterpart_area AS ref_area, time_period, sum(obs_value) AS refugees,
               list_distinct(list(source_id)) AS sources, list_distinct(list(batch_id)) AS batches,
               list({ROW}) AS rows
        FROM core.observations WHERE series IN ('UNHCR_REF', 'UNHCR_OIP') GROUP BY ALL
    ), end_year AS (  -- 31 December: halfway between this mid-year and the next
        SELECT p.ref_area, p.time_period, (p.pop + n.pop) / 2 AS pop, p.pop_source,
               p.pop_batch, n.pop_batch AS next_batch, p.pop_row, n.pop_row AS next_row
        FROM population p JOIN population n
             ON n.ref_area = p.ref_area
            AND n.time_period = CAST(CAST(p.time_period AS INTEGER) + 1 AS VARCHAR)
    )
    SELECT '{{id}}' AS indicator_id, 'SM_POP_REFG_OR' AS series, r.ref_area,
           '_T' AS counterpart_area, r.time_period, '_T' AS sex, '_T' AS age,
           '_T' AS migrant_status, r.refugees / (p.pop + r.refugees) * 100000 AS obs_value,
           'PER_100000' AS unit_measure, 0 AS unit_mult,
           list_distinct(list_append(r.sources, p.pop_source)) AS source_ids,
           list_distinct(list_append(r.batches, p.pop_batch)) AS batch_ids,
           '{WDI_POPULATION}, mid-year, + refugees' AS denominator_source, NULL AS basis,
           NULL AS type_of_data, 'A' AS obs_status, list_append(r.rows, p.pop_row) AS source_rows
    FROM refugees r JOIN population p USING (ref_area, time_period)
    UNION ALL
    SELECT '{{id}}', 'SM_POP_REFG_OR_EOY', r.ref_area, '_T', r.time_period, '_T', '_T', '_T',
           r.refugees / (e.pop + r.refugees) * 100000, 'PER_100000', 0,
           list_distinct(list_append(r.sources, e.pop_source)),
           list_distinct(list_concat(r.batches, [e.pop_batch, e.next_batch])),
           '{WDI_POPULATION}, end-year (mean of this and next mid-year), + refugees', NULL,
           NULL, 'E', list_concat(r.rows, [e.pop_row, e.next_row])
    FROM refugees r JOIN end_year e USING (ref_area, time_period)
    """,
    "asylum_recognition_rate": """
    WITH decisions AS (
        SELECT ref_area, counterpart_area, time_period, source_id, batch_id,
               sum(obs_value) FILTER (WHERE series IN ('UNHCR_DEC_RECOGNIZED',
                   'UNHCR_DEC_COMPLEMENTARY')) AS positive,
               sum(obs_value) FILTER (WHERE series = 'UNHCR_DEC_REJECTED') AS rejected,
               list({ROW}) AS rows
        FROM core.observations WHERE series LIKE 'UNHCR_DEC_%' GROUP BY ALL
    ), with_totals AS (
        SELECT * FROM decisions
        UNION ALL
        SELECT ref_area, '_T', time_period, source_id, batch_id, sum(positive), sum(rejected),
               flatten(list(rows))
        FROM decisions GROUP BY ALL
    )
    SELECT '{id}' AS indicator_id, '{id}' AS series, ref_area, counterpart_area, time_period,
           '_T' AS sex, '_T' AS age, '_T' AS migrant_status,
           positive / (positive + rejected) * 100 AS obs_value, 'PT' AS unit_measure,
           0 AS unit_mult, [source_id] AS source_ids, [batch_id] AS batch_ids,
           NULL AS denominator_source, NULL AS basis, NULL AS type_of_data, 'A' AS obs_status,
           CAST(positive + rejected AS BIGINT) AS base_count, rows AS source_rows
    FROM with_totals WHERE positive + rejected > 0
    """.replace("{ROW}", ROW),
    "remittances_received": _passthrough("BX_TRF_PWKR_CD_DT", "REM_IN_USD", "USD"),
    "remittances_per_capita": f"""
    WITH {POPULATION}
    SELECT '{{id}}' AS indicator_id, '{{id}}' AS series, r.ref_area,
           r.counterpart_area, r.time_period, r.sex, r.age, r.migrant_status,
           r.obs_value / p.pop AS obs_value, 'USD_PER_PERSON' AS unit_measure, 0 AS unit_mult,
           [r.source_id, p.pop_source] AS source_ids, [r.batch_id, p.pop_batch] AS batch_ids,
           '{WDI_POPULATION}' AS denominator_source, NULL AS basis, NULL AS type_of_data,
           r.obs_status,
           [{OBSERVATION_REF.format(t="r.")}, p.pop_row] AS source_rows
    FROM core.observations r JOIN population p USING (ref_area, time_period)
    WHERE r.series = 'BX_TRF_PWKR_CD_DT' AND p.pop > 0
    """,
    "remittances_paid": _passthrough("BM_TRF_PWKR_CD_DT", "REM_OUT_USD", "USD"),
    "remittances_gdp_share": _passthrough("BX_TRF_PWKR_DT_GD_ZS", "BX_TRF_PWKR", "PT"),
    "remittance_cost": _passthrough("SI_RMT_COST_IB_ZS", "SI_RMT_COST", "PT"),
    "remittance_cost_corridors": _passthrough("RPW_ATCR_CORR", "SI_RMT_COST_CORRIDOR", "PT"),
    "missing_migrants_total": _missing_migrants("ref_area", "'_T'", "'_T'", "'SM_DTH_MIGR'"),
    "missing_migrants_in_country": _missing_migrants(
        "ref_area", "counterpart_area", "breakdown", "'MIG_DEAD_MISSING_IN_COUNTRY'"
    )
    + " UNION ALL BY NAME "
    + _missing_migrants("ref_area", "'_T'", "breakdown", "'MIG_DEAD_MISSING_IN_COUNTRY'")
    + " UNION ALL BY NAME "
    + _missing_migrants("ref_area", "counterpart_area", "'_T'", "'MIG_DEAD_MISSING_IN_COUNTRY'")
    + " UNION ALL BY NAME "
    + _missing_migrants("ref_area", "'_T'", "'_T'", "'MIG_DEAD_MISSING_IN_COUNTRY'"),
    "missing_migrants_nationals": _missing_migrants(
        "counterpart_area", "ref_area", "'_T'", "'MIG_DEAD_MISSING_NATIONALS'"
    )
    + " UNION ALL BY NAME "
    + _missing_migrants("counterpart_area", "'_T'", "'_T'", "'MIG_DEAD_MISSING_NATIONALS'"),
    "students_inbound": _passthrough("UIS_26637", "STU_INBOUND", "PS"),
    # outbound = inbound - net flow (UIS publishes the net flow as inbound - outbound): derived
    # here, so flagged estimated whatever the inputs' flags
    "students_outbound": f"""
    SELECT '{{id}}' AS indicator_id, 'STU_OUTBOUND' AS series, i.ref_area,
           i.counterpart_area, i.time_period, i.sex, i.age, i.migrant_status, i.breakdown,
           i.obs_value - n.obs_value AS obs_value, 'PS' AS unit_measure, 0 AS unit_mult,
           [i.source_id, n.source_id] AS source_ids, [i.batch_id, n.batch_id] AS batch_ids,
           NULL AS denominator_source, NULL AS basis, NULL AS type_of_data, 'E' AS obs_status,
           [{OBSERVATION_REF.format(t="i.")}, {OBSERVATION_REF.format(t="n.")}] AS source_rows
    FROM core.observations i JOIN core.observations n
      USING (ref_area, counterpart_area, time_period, sex, age, migrant_status, breakdown)
    WHERE i.series = 'UIS_26637' AND n.series = 'UIS_MENF_5T8'
    """,
    "remittance_corridors": _passthrough("WB_REM_BILAT", "REM_CORRIDOR_USD", "USD", "1e6"),
}
