"""Standard exports of a snapshot: Open SDG CSV (+ metadata YAML) per indicator, and SDMX-CSV.

Open SDG (https://open-sdg.org) reads one CSV per indicator: `Year` first, `Value` last, one
column per disaggregation in between, left blank on the headline (total) rows. SDMX-CSV puts the
dataflow first, then one column per dimension, the observation value and its attributes. SDG
series use the global SDG data structure's dimension names (M49 `REF_AREA`, `_T` totals, migrant
status in `COMPOSITE_BREAKDOWN`); the other indicators use the same names under a national
dataflow, with their national series codes and ISO 3166-2 codes for sub-national areas.
"""

from __future__ import annotations

import csv
import re
from pathlib import Path

import pandas as pd
import yaml

from indicators.catalogue import Indicator
from indicators.flags import status_label
from sources.geography import admin_areas, areas
from sources.i18n import LANGUAGES, N_, SOURCE_LANGUAGE, localise
from warehouse.safe_output import neutralise_formulas, published_values

SDG_DATAFLOW = "IAEG-SDGs:DF_SDG_GLH(1.0)"
NATIONAL_AGENCY = "EMP"
SDG_DIMENSIONS = (
    "FREQ",
    "REPORTING_TYPE",
    "SERIES",
    "REF_AREA",
    "SEX",
    "AGE",
    "URBANISATION",
    "INCOME_WEALTH_QUANTILE",
    "EDUCATION_LEV",
    "OCCUPATION",
    "CUST_BREAKDOWN",
    "COMPOSITE_BREAKDOWN",
    "DISABILITY_STATUS",
    "ACTIVITY",
    "PRODUCT",
    "TIME_PERIOD",
)
#: National dataflow: the catalogue indicator (one series may feed several), the SDG names
#: where they apply, plus the counterpart area and breakdown.
NATIONAL_DIMENSIONS = (
    "INDICATOR",
    "FREQ",
    "REPORTING_TYPE",
    "SERIES",
    "REF_AREA",
    "COUNTERPART_AREA",
    "SEX",
    "AGE",
    "COMPOSITE_BREAKDOWN",
    "CUST_BREAKDOWN",
    "TIME_PERIOD",
)
ATTRIBUTES = (
    "OBS_VALUE",
    "UNIT_MEASURE",
    "UNIT_MULT",
    "OBS_STATUS",
    "CONF_STATUS",
    "COMMENT_OBS",
    "SOURCE_DETAIL",
)

SEX_LABELS = {"F": "Female", "M": "Male"}
AGE_LABELS = {
    "Y_LT15": "Under 15",
    "Y15T64": "15-64",
    "Y25T64": "25-64",
    "Y_GE65": "65 and over",
    "Y_GE15": "15 and over",
    "Y_GE25": "25 and over",
}
STATUS_LABELS = {"MS_MIGRANT": "Migrant", "MS_NOMIGRANT": "Non-migrant"}
_YEAR = re.compile(r"^\d{4}$")
_QUARTER = re.compile(r"^\d{4}-Q[1-4]$")
_MONTH = re.compile(r"^\d{4}-\d{2}$")


def frequency(period: str) -> str | None:
    """SDMX FREQ of a period: A, Q or M (None when it is none of them)."""
    if _YEAR.match(period):
        return "A"
    if _QUARTER.match(period):
        return "Q"
    if _MONTH.match(period):
        return "M"
    return None


def open_sdg_id(indicator: Indicator) -> str:
    """`10-7-4` for an SDG indicator, `emp-imm-stock` for a national one."""
    if indicator.sdg_indicator:
        return indicator.sdg_indicator.replace(".", "-")
    return "emp-" + indicator.id.lower().replace("_", "-")


def _names() -> dict[str, str]:
    names = dict(zip(areas()["code"], areas()["name"], strict=True))
    admin = admin_areas().sort_values("valid_to", na_position="last")
    names.update(dict(zip(admin["code"], admin["name"], strict=True)))
    return names


def open_sdg_frame(rows: pd.DataFrame, country: str, names: dict[str, str]) -> pd.DataFrame:
    """One indicator's values in Open SDG's layout: every period (a quarter or a month in its
    own column beside the year), with its series and unit. A confidential or missing cell keeps
    its row, with an empty value and its status in words: never mistaken for a zero."""
    rows = rows[rows["time_period"].map(frequency).notna().astype(bool)]
    if "preferred" in rows:
        rows = rows[rows["preferred"].fillna(True).astype(bool)]
    if rows.empty:  # no value here: the file has its header alone
        return pd.DataFrame(columns=["Year", "Series", "Units", "Value"])

    def label(column: str, mapping=None):
        values = rows[column]
        return values.map(lambda v: "" if v in ("_T", None) else (mapping or {}).get(v, v))

    periods = rows["time_period"].astype(str)
    frame = pd.DataFrame(
        {
            "Year": periods.str[:4].astype(int),
            "Quarter": periods.map(lambda p: p[5:] if frequency(p) == "Q" else ""),
            "Month": periods.map(lambda p: p[5:] if frequency(p) == "M" else ""),
            "Series": rows["series"],
            "Units": rows["unit_measure"],
            "Geographic area": rows["ref_area"].map(
                lambda a: "" if a == country else names.get(a, a)
            ),
            "Counterpart area": label("counterpart_area", names),
            "Sex": label("sex", SEX_LABELS),
            "Age": label("age", AGE_LABELS),
            "Migratory status": label("migrant_status", STATUS_LABELS),
            "Breakdown": label("breakdown"),
            "Observation status": [
                status_label(o, c, s)
                for o, c, s in zip(
                    _column(rows, "obs_status"),
                    _column(rows, "conf_status"),
                    _column(rows, "suppression"),
                    strict=True,
                )
            ],
            "Data type": [SYNTHETIC_NOTE if s else "" for s in _synthetic(rows)],
            "Value": published_values(rows["obs_value"], f"Open SDG, {country}"),
        }
    )
    always = {"Series", "Units"}  # what the values are: in every file, even when one
    used = [c for c in frame.columns[1:-1] if c in always or frame[c].astype(str).ne("").any()]
    frame = frame[["Year", *used, "Value"]]
    return frame.sort_values(["Year", *used]).reset_index(drop=True)


#: why a published value is not in its indicator's Open SDG file (said in the metadata)
LEFT_OUT = {
    "other_source": N_(
        "{count} value(s) from another source than the preferred one are not here: each is kept "
        "beside the preferred value in the edition's table of overlaps (overlaps.parquet)"
    ),
    "variant_series": N_(
        "{count} value(s) of the series {series}, computed another way than the indicator's "
        "own, are not here: they are in the SDMX export (national dataflow)"
    ),
    "other_frequency": N_(
        "{count} value(s) for periods that are not a year, a quarter or a month are not here"
    ),
}


def left_out(rows: pd.DataFrame, indicator: Indicator) -> dict[str, int]:
    """The indicator's published values its Open SDG file does not hold, counted by reason."""
    variants = rows["series"].isin(variant_series(indicator))
    periodic = rows["time_period"].map(frequency).notna().astype(bool)
    preferred = (
        rows["preferred"].fillna(True).astype(bool)
        if "preferred" in rows
        else pd.Series(True, index=rows.index)
    )
    counts = {
        "variant_series": int(variants.sum()),
        "other_frequency": int((~variants & ~periodic).sum()),
        "other_source": int((~variants & periodic & ~preferred).sum()),
    }
    return {reason: count for reason, count in counts.items() if count}


def left_out_note(counts: dict[str, int], indicator: Indicator, language: str) -> list[str]:
    series = ", ".join(variant_series(indicator))
    return [
        localise(LEFT_OUT[reason].format(count=count, series=series), language)
        for reason, count in counts.items()
    ]


#: How a value from a generated sample is marked wherever it is exported.
SYNTHETIC_NOTE = N_("synthetic data (a generated sample), not official statistics")


def _synthetic(rows: pd.DataFrame) -> pd.Series:
    if "synthetic" not in rows:
        return pd.Series(False, index=rows.index)
    return rows["synthetic"].fillna(False).astype(bool)


def synthetic_comments(rows: pd.DataFrame) -> pd.Series:
    """COMMENT_OBS, opening with the synthetic-data note where the value rests on a sample."""
    comments = _column(rows, "comment").fillna("").astype(str)
    return pd.Series(
        [
            f"{SYNTHETIC_NOTE}; {c}" if s and c else (SYNTHETIC_NOTE if s else c)
            for s, c in zip(_synthetic(rows), comments, strict=True)
        ],
        index=rows.index,
        dtype=object,
    )


def variant_series(indicator: Indicator) -> list[str]:
    """Series of an indicator computed another way than its headline (the catalogue's
    `variant_series`): published beside it, never under the SDG code."""
    return list(indicator.extra.get("variant_series") or [])


def _column(rows: pd.DataFrame, name: str) -> pd.Series:
    """A flag column, empty where a snapshot written before it lacks it."""
    return rows[name] if name in rows else pd.Series(None, index=rows.index, dtype=object)


def editions(vintages: object) -> str:
    """`source: edition (sha256 ...)` labels as `source: edition`, joined: the edition of every
    input of a figure."""
    if vintages is None or not len(vintages):
        return ""
    return "; ".join(sorted({re.sub(r" \(sha256 [0-9a-f]+\)$", "", str(v)) for v in vintages}))


def open_sdg_meta(
    indicator: Indicator,
    country: str,
    manifest: dict,
    years: list[int],
    sources: str = "",
    synthetic: bool = False,
    language: str = SOURCE_LANGUAGE,
) -> dict:
    """Open SDG metadata of one indicator, in `language` (Open SDG reads translated metadata
    from meta/<language>/)."""
    from indicators.translations import localised, term

    indicator = localised(indicator, language)
    return {
        "indicator_number": indicator.sdg_indicator or open_sdg_id(indicator),
        "indicator_name": indicator.name,
        "indicator_definition": " ".join(indicator.definition.split()),
        "computation_calculations": indicator.formula,
        "computation_units": term("units", indicator.unit, language) or indicator.unit,
        "reporting_status": "complete" if years else "notstarted",
        "data_non_statistical": False,
        "graph_type": "line",
        "graph_title": indicator.name,
        "national_geographical_coverage": country,
        "un_designated_tier": None,
        "source_active_1": True,
        "source_organisation_1": ", ".join(indicator.sources),
        "source_release_1": sources or None,  # the editions of the inputs published
        "data_last_updated": manifest["created_at"][:10],
        "emp_catalogue_id": indicator.id,
        "emp_part": indicator.part,
        "emp_module": indicator.module,
        "emp_snapshot_version": manifest["version"],
        "emp_years": f"{min(years)}-{max(years)}" if years else None,
        "emp_synthetic": synthetic,
        "data_footnote": localise(SYNTHETIC_NOTE, language) if synthetic else None,
    }


def write_open_sdg(
    indicators: pd.DataFrame,
    catalogue: tuple[Indicator, ...],
    country: str,
    manifest: dict,
    folder: Path,
) -> list[Path]:
    """`data/indicator_<id>.csv` and `meta/<id>.yml` for every catalogue indicator."""
    (folder / "data").mkdir(parents=True, exist_ok=True)
    (folder / "meta").mkdir(parents=True, exist_ok=True)
    names = _names()
    written = []
    by_indicator = dict(list(indicators.groupby("indicator_id", sort=False)))
    for indicator in catalogue:
        everything = by_indicator.get(indicator.id, indicators.iloc[:0])
        rows = everything[~everything["series"].isin(variant_series(indicator))]
        frame = open_sdg_frame(rows, country, names)
        missing = left_out(everything, indicator)
        published = (
            rows[rows["preferred"].fillna(True).astype(bool)] if "preferred" in rows else rows
        )
        sources = "; ".join(
            sorted(
                {
                    e
                    for v in published.get("source_vintages", [])
                    for e in editions(v).split("; ")
                    if e
                }
            )
        )
        key = open_sdg_id(indicator)
        data = folder / "data" / f"indicator_{key}.csv"
        neutralise_formulas(frame).to_csv(
            data, index=False, quoting=csv.QUOTE_MINIMAL, lineterminator="\n"
        )
        years = sorted(set(frame["Year"].astype(int)))
        synthetic = bool(_synthetic(published).any())
        for language in LANGUAGES:
            meta = folder / "meta" / ("" if language == SOURCE_LANGUAGE else language)
            meta = meta / f"{key}.yml"
            meta.parent.mkdir(parents=True, exist_ok=True)
            document = open_sdg_meta(
                indicator, country, manifest, years, sources, synthetic, language
            )
            notes = left_out_note(missing, indicator, language)
            if document["data_footnote"]:
                notes.insert(0, document["data_footnote"])
            document["data_footnote"] = "; ".join(notes) or None
            document["emp_values_published"] = len(everything)
            document["emp_values_in_file"] = len(frame)
            document["emp_values_left_out"] = missing
            meta.write_text(
                # libyaml's emitter: the same text as yaml.safe_dump, several times faster
                yaml.dump(document, Dumper=yaml.CSafeDumper, sort_keys=False, allow_unicode=True),
                encoding="utf-8",
            )
            written.append(meta)
        written.append(data)
    return written


def sdmx_frame(
    indicators: pd.DataFrame, catalogue: tuple[Indicator, ...], sdg: bool
) -> pd.DataFrame:
    """SDG series (`sdg=True`) under the SDG dataflow, or the other series under the national
    one, as SDMX-CSV rows."""
    by_id = {i.id: i for i in catalogue}
    sdg_ids = {i.id for i in catalogue if i.sdg_indicator and i.sdmx_series}
    variants = {s for i in catalogue for s in variant_series(i)}
    # an SDG indicator's variants (another denominator) go to the national dataflow
    in_sdg = indicators["indicator_id"].isin(sdg_ids) & ~indicators["series"].isin(variants)
    rows = indicators[in_sdg == sdg]
    if "preferred" in rows:
        rows = rows[rows["preferred"].fillna(True).astype(bool)]
    rows = rows[rows["time_period"].map(frequency).notna().astype(bool)]
    if sdg:  # the global structure has no counterpart or custom breakdown: totals only
        rows = rows[(rows["counterpart_area"] == "_T") & (rows["breakdown"] == "_T")]
    m49 = dict(zip(areas()["code"], areas()["m49"], strict=True))
    # countries by their M49 number, sub-national areas by their ISO 3166-2 code
    ref_area = rows["ref_area"].map(lambda a: f"{int(m49[a]):03d}" if a in m49 else a)
    if sdg:
        series = rows["indicator_id"].map(lambda i: by_id[i].sdmx_series)
        dataflow = SDG_DATAFLOW
        dimensions = SDG_DIMENSIONS
    else:
        series = rows["series"]
        dataflow = None
        dimensions = NATIONAL_DIMENSIONS
    values = {
        "INDICATOR": rows["indicator_id"],
        "FREQ": rows["time_period"].map(frequency),
        "REPORTING_TYPE": "N",
        "SERIES": series,
        "REF_AREA": ref_area,
        "COUNTERPART_AREA": rows["counterpart_area"],
        "SEX": rows["sex"],
        "AGE": rows["age"],
        "COMPOSITE_BREAKDOWN": rows["migrant_status"],
        "CUST_BREAKDOWN": rows["breakdown"],
        "TIME_PERIOD": rows["time_period"],
        "OBS_VALUE": published_values(rows["obs_value"], "SDMX-CSV"),
        "UNIT_MEASURE": rows["unit_measure"],
        "UNIT_MULT": rows["unit_mult"].fillna(0).astype(int),
        "OBS_STATUS": _column(rows, "obs_status").fillna("A"),
        "CONF_STATUS": _column(rows, "conf_status").fillna("F"),
        "COMMENT_OBS": synthetic_comments(rows),
        "SOURCE_DETAIL": (
            rows["source_vintages"].map(editions)
            if "source_vintages" in rows
            else rows["source_ids"].map(lambda s: "; ".join(s))
        ),
    }
    frame = pd.DataFrame({d: values.get(d, "_T") for d in (*dimensions, *ATTRIBUTES)})
    frame.insert(0, "DATAFLOW", dataflow or "")
    return frame.sort_values(list(dimensions)).reset_index(drop=True)


def write_sdmx(
    indicators: pd.DataFrame,
    catalogue: tuple[Indicator, ...],
    country: str,
    folder: Path,
) -> list[Path]:
    """`sdmx/sdg.csv` and `sdmx/national.csv` (SDMX-CSV 1.0: the SDG dataflow and
    EMP:DF_EMP_<ISO3>), the same data as SDMX-CSV 2.0 in `sdmx/2.0/`, and their structures
    (data structure definitions, concept scheme, codelists, dataflows) in
    `sdmx/structure.xml` (SDMX-ML 2.1)."""
    from publish.sdmx_structures import FLOWS, sdmx_csv_2, structure_message, write_structures

    folder.mkdir(parents=True, exist_ok=True)
    (folder / "2.0").mkdir(exist_ok=True)
    written, frames = [], {}
    for name, sdg in (("sdg", True), ("national", False)):
        frame = sdmx_frame(indicators, catalogue, sdg)
        if not sdg:
            frame["DATAFLOW"] = f"{NATIONAL_AGENCY}:DF_EMP_{country}(1.0)"
        frames[name] = frame
        path = folder / f"{name}.csv"
        neutralise_formulas(frame).to_csv(path, index=False, lineterminator="\n")
        written.append(path)
        version_2 = sdmx_csv_2(frame, FLOWS[name].format(country=country))
        path = folder / "2.0" / f"{name}.csv"
        neutralise_formulas(version_2).to_csv(path, index=False, lineterminator="\n")
        written.append(path)
    dimensions = {"sdg": SDG_DIMENSIONS, "national": NATIONAL_DIMENSIONS}
    xml = structure_message(frames, dimensions, country, catalogue)
    written.append(write_structures(folder, xml))
    return written


def write_exports(
    indicators: pd.DataFrame,
    catalogue: tuple[Indicator, ...],
    country: str,
    manifest: dict,
    folder: Path,
) -> list[Path]:
    """Every export of one snapshot under `folder` (open-sdg/ and sdmx/)."""
    return write_open_sdg(
        indicators, catalogue, country, manifest, folder / "open-sdg"
    ) + write_sdmx(indicators, catalogue, country, folder / "sdmx")
