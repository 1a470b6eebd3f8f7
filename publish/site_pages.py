"""What each page of the public site shows, in one language, from the published editions: the
home page, the indicator index and one page per indicator with every country side by side, the
area index and one local profile per region, province or district, and the two status pages.
Plain functions over ProfileBuilders (one per country and language), so every page writes a
value, a flag and a source the way the country's profile does."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from indicators.catalogue import Indicator
from indicators.translations import term
from publish.profile_data import yearly
from publish.report import KEY_DATA, LEVEL_NAMES, PARTS, SUBNATIONAL, ProfileBuilder, csv_href
from publish.site_status import (
    DIMENSIONS,
    DISAGGREGATION_STATUSES,
    REPORTING_STATUSES,
    IndicatorStatus,
    counts,
    edition_statuses,
)
from sources.i18n import N_, format_day, format_share

ROLES = {
    "intervention": N_("intervention area"),
    "comparison": N_("comparison area"),
    "national": N_("national"),
}
HEADLINE = ("IMM_STOCK", "EMI_STOCK", "REM_IN_USD", "REF_HOSTED")


@dataclass
class Edition:
    """The edition of a country the site shows (its latest approved, else its newest draft)."""

    country: str
    version: str
    status: str
    path: Path
    statuses: list[IndicatorStatus] = field(default_factory=list)


def slug(code: str) -> str:
    """A file name for an area or indicator code (letters, digits, - and _ only)."""
    return re.sub(r"[^A-Za-z0-9_-]+", "_", code)


def status_word(builder: ProfileBuilder, status: str) -> str:
    from publish.report import EDITION_STATUSES

    return builder.t(EDITION_STATUSES[status])


def published_on(builder: ProfileBuilder) -> str:
    return format_day(builder.manifest["created_at"], builder.language, builder.alpha2)


# --- home ------------------------------------------------------------------------------------


def headline_figures(builder: ProfileBuilder, limit: int = 4) -> list[dict]:
    """A few of the profile's key figures (its latest national values) for the home page."""
    figures = []
    for indicator_id in (*HEADLINE, *KEY_DATA):
        indicator = builder.catalogue.get(indicator_id)
        if not indicator or any(f["id"] == indicator_id for f in figures):
            continue
        latest = builder.latest(indicator_id)
        if latest:
            first = latest[0]
            figures.append(
                {
                    "id": indicator_id,
                    "name": indicator.name,
                    "value": first["value"],
                    "unit": first["unit"],
                    "period": first["period"],
                    "note": first["flag"] or "",
                }
            )
        if len(figures) >= limit:
            break
    return figures


# --- indicators ------------------------------------------------------------------------------


def metadata(builder: ProfileBuilder, indicator: Indicator) -> list[dict]:
    """The indicator's metadata in words, as the profile's annex gives it."""
    from sources.source_names import source_label

    items = [
        (
            N_("Part and module"),
            f"{term('parts', indicator.part, builder.language)} · "
            f"{term('modules', indicator.module, builder.language) or indicator.module}",
        ),
        (N_("Unit"), builder.unit_name(indicator.unit)),
        (N_("Numerator"), indicator.numerator),
        (N_("Denominator"), indicator.denominator),
        (N_("Official definition"), indicator.official_definition),
        (N_("SDG indicator"), indicator.sdg_indicator),
        (
            N_("Breakdowns asked for"),
            ", ".join(
                builder.t(DIMENSIONS[d]) for d in indicator.disaggregations if d in DIMENSIONS
            ),
        ),
        (N_("Sources"), ", ".join(source_label(s, builder.language) for s in indicator.sources)),
    ]
    return [{"label": builder.t(label), "value": value} for label, value in items if value]


def compared_charts(builders: dict[str, ProfileBuilder], indicator: Indicator, names) -> list:
    """One bar chart per series: the latest national value of every country that gives it."""
    first = next(iter(builders.values()))
    by_series: dict[str, list[tuple[str, dict]]] = {}
    for country, builder in builders.items():
        rows = builder.national(indicator.id).dropna(subset=["obs_value"])
        rows = yearly(rows) if len(yearly(rows)) else rows
        for series, group in rows.groupby("series"):
            last = group.sort_values("time_period").iloc[-1].to_dict()
            by_series.setdefault(series, []).append(
                (f"{names[country]} ({last['time_period']})", last)
            )
    charts = []
    for series, labelled in sorted(by_series.items()):
        if len(labelled) < 2 or len({r["unit_measure"] for _label, r in labelled}) != 1:
            continue
        rows = pd.DataFrame([r for _label, r in labelled])
        labelled.sort(key=lambda pair: -(pair[1]["obs_value"] or 0))
        title = first.t(
            "{series}: latest value in each country", series=first.series_name(series, indicator)
        )
        chart = first._chart(
            "bar", title, rows["unit_measure"].iloc[0], labelled, rows, first.t("Country")
        )
        chart["id"] = f"compared-{slug(series)}"
        charts.append(chart)
    return charts


def side_by_side(builders: dict[str, ProfileBuilder], indicator: Indicator, names) -> list:
    """Per series, the national values by period with one column per country that gives the
    series: each cell as the country's profile writes it, with its flags."""
    by_series: dict[str, dict[str, dict[str, dict]]] = {}
    units: dict[str, str] = {}
    for country, builder in builders.items():
        for row in builder.national(indicator.id).to_dict(orient="records"):
            cells = by_series.setdefault(row["series"], {}).setdefault(country, {})
            cells[row["time_period"]] = row
            units.setdefault(row["series"], row["unit_measure"])
    first = next(iter(builders.values()))
    tables = []
    for series, countries in sorted(by_series.items()):
        periods = sorted({p for cells in countries.values() for p in cells}, reverse=True)
        body = []
        for period in periods:
            cells = []
            for country in countries:
                row = countries[country].get(period)
                builder = builders[country]
                if row is None:
                    cells.append({"value": "", "note": ""})
                else:
                    cells.append(
                        {
                            "value": builder.shown(row, units[series]),
                            "note": builder.note(row),
                            "value_key": row.get("value_key"),
                            "scale": builder.scale(row.get("obs_value"), units[series]),
                        }
                    )
            body.append({"period": period, "cells": cells})
        tables.append(
            {
                "id": f"series-{slug(series)}",
                "title": first.series_name(series, indicator),
                "unit": first.unit_name(units[series]),
                "countries": [names[c] for c in countries],
                "rows": body,
                "sources": sorted(
                    {
                        s
                        for c in countries
                        for s in builders[c].sources(pd.DataFrame(countries[c].values()))
                    }
                ),
            }
        )
    return tables


def indicator_page(
    indicator: Indicator,
    builders: dict[str, ProfileBuilder],
    editions: dict[str, Edition],
    names: dict[str, str],
    href,
) -> dict:
    """An indicator with every country side by side: the latest values and a chart comparing
    them, every period of every country in one table per series, metadata and statuses."""
    first = next(iter(builders.values()))
    latest, countries = [], []
    for country, builder in builders.items():
        for row in builder.latest(indicator.id):
            latest.append({**row, "country": names[country], "href": href(country)})
        status = next(s for s in editions[country].statuses if s.indicator_id == indicator.id)
        countries.append(
            {
                "code": country,
                "name": names[country],
                "href": href(country) + f"#indicator-{indicator.id}",
                "status": builder.t(REPORTING_STATUSES[status.reporting]),
                "given": ", ".join(builder.t(DIMENSIONS[d]) for d in status.given),
                "missing": ", ".join(builder.t(DIMENSIONS[d]) for d in status.missing),
            }
        )
    return {
        "indicator": {
            "id": indicator.id,
            "name": indicator.name,
            "definition": " ".join(indicator.definition.split()),
        },
        "metadata": metadata(first, indicator),
        "latest": latest,
        "compared": compared_charts(builders, indicator, names),
        "tables": side_by_side(builders, indicator, names),
        "countries": countries,
    }


def index_parts(
    builder: ProfileBuilder, editions: dict[str, Edition], href, field: str, words: dict
) -> list[dict]:
    """The catalogue by part and module, each indicator with its status in every country."""
    statuses = {
        c: {s.indicator_id: getattr(s, field) for s in e.statuses} for c, e in editions.items()
    }
    parts = []
    for code, modules in [("A", PARTS["A"]), ("B", PARTS["B"]), ("Annex", PARTS["Annex"])]:
        entries = []
        for module in modules:
            indicators = [i for i in builder.catalogue.values() if i.module == module]
            if not indicators:
                continue
            entries.append(
                {
                    "name": term("modules", module, builder.language) or module,
                    "indicators": [
                        {
                            "name": i.name,
                            "href": href(i.id),
                            "sdg": i.sdg_indicator,
                            "statuses": [
                                {
                                    "code": statuses[c][i.id],
                                    "word": builder.t(words[statuses[c][i.id]]),
                                }
                                for c in editions
                            ],
                        }
                        for i in indicators
                    ],
                }
            )
        parts.append({"title": term("parts", code, builder.language), "modules": entries})
    return parts


def status_counts(builder: ProfileBuilder, edition: Edition, field: str, words: dict) -> list:
    return [
        {**n, "share": format_share(n["share"] / 100, builder.language, builder.alpha2)}
        for n in counts(edition.statuses, field, words)
    ]


# --- areas -----------------------------------------------------------------------------------


def areas_with_data(builder: ProfileBuilder) -> list[str]:
    """The sub-national areas the edition gives a value for, or names in a project baseline."""
    frame = builder.frame
    codes = set(frame.loc[frame["ref_area"].map(builder.levels.get).isin(SUBNATIONAL), "ref_area"])
    baselines = read_baselines(builder.folder)
    if len(baselines):
        codes |= {a for a in baselines["ref_area"] if builder.levels.get(a) in SUBNATIONAL}
    return sorted(codes)


def read_baselines(folder: Path) -> pd.DataFrame:
    path = Path(folder) / "baselines.parquet"
    return pd.read_parquet(path) if path.exists() else pd.DataFrame()


def level_word(builder: ProfileBuilder, code: str) -> str:
    level = builder.levels.get(code, "")
    return builder.t(LEVEL_NAMES[level]) if level in LEVEL_NAMES else level


@dataclass
class AreaFigures:
    """One area's figures, picked out of the country's rows once for every area."""

    latest: list[dict] = field(default_factory=list)  # latest period: totals, by sex, migrants
    series: dict[tuple[str, str], list[dict]] = field(default_factory=dict)  # 3+ years
    rows: pd.DataFrame | None = None


def figures_by_area(builder: ProfileBuilder, codes: list[str]) -> dict[str, AreaFigures]:
    """Each area's own values (no partner-country rows): the latest period of each series
    (totals, by sex, migrants), and the yearly totals of series with three years or more."""
    frame = builder.frame
    frame = frame[frame["ref_area"].isin(codes) & (frame["counterpart_area"] == "_T")]
    found = {code: AreaFigures() for code in codes}
    if frame.empty:
        return found
    keys = ["ref_area", "indicator_id", "series"]
    newest = frame.groupby(keys)["time_period"].transform("max")
    latest = frame[
        (frame["time_period"] == newest)
        & frame["age"].isin(["_T", "Y_GE0"])
        & (frame["breakdown"] == "_T")
        & frame["migrant_status"].isin(["_T", "MS_MIGRANT"])
    ]
    latest = latest.assign(
        _other_sex=latest["sex"] != "_T", _other_status=latest["migrant_status"] != "_T"
    ).sort_values(["ref_area", "indicator_id", "series", "_other_status", "_other_sex", "sex"])
    for row in latest.to_dict(orient="records"):
        found[row["ref_area"]].latest.append(row)
    totals = yearly(frame)
    totals = totals[(totals[["sex", "age", "migrant_status", "breakdown"]] == "_T").all(axis=1)]
    totals = totals.dropna(subset=["obs_value"])
    years = totals.groupby(keys)["time_period"].transform("nunique")
    for row in totals[years >= 3].sort_values([*keys, "time_period"]).to_dict(orient="records"):
        key = (row["indicator_id"], row["series"])
        found[row["ref_area"]].series.setdefault(key, []).append(row)
    for code, group in frame.groupby("ref_area", sort=False):
        found[code].rows = group
    return found


def area_page(
    builder: ProfileBuilder,
    area: str,
    figures: AreaFigures,
    baselines: pd.DataFrame,
    with_pages: set[str],
    href,
    indicator_href,
):
    """A local profile: the area's latest figures (totals, then by sex), a chart where a series
    has three years or more, the areas within it, and the projects' baselines in it."""
    body, csv_rows, charts = [], [], []
    for row in figures.latest:
        indicator_id, series = row["indicator_id"], row["series"]
        indicator = builder.catalogue.get(indicator_id)
        unit = row["unit_measure"]
        qualifiers = [builder.label(d, row[d]) for d in ("sex", "migrant_status") if row[d] != "_T"]
        name = builder.series_name(series, indicator)
        label = f"{name} ({', '.join(qualifiers)})" if qualifiers else name
        note = builder.note(row)
        body.append(
            {
                "indicator": indicator.name if indicator else indicator_id,
                "href": indicator_href(indicator_id) if indicator else None,
                "series": label,
                "value": builder.shown(row, unit),
                "value_key": row.get("value_key"),
                "scale": builder.scale(row["obs_value"], unit),
                "unit": builder.unit_name(unit),
                "period": row["time_period"],
                "note": note,
                "synthetic": bool(row.get("synthetic")),
                "hidden": row.get("conf_status") == "C",
            }
        )
        csv_rows.append(
            [
                indicator.name if indicator else indicator_id,
                label,
                row["time_period"],
                "" if builder.state(row) in ("confidential", "missing") else row["obs_value"],
                builder.unit_name(unit),
                note,
                builder.row_sources(row),
                row.get("obs_status") or "",
                row.get("conf_status") or "",
            ]
        )
    for (indicator_id, series), records in figures.series.items():
        indicator = builder.catalogue.get(indicator_id)
        labelled = [(r["time_period"], r) for r in records]
        chart = builder._chart(
            "line",
            builder.series_name(series, indicator),
            records[0]["unit_measure"],
            labelled,
            pd.DataFrame(records),
            builder.t("Year"),
        )
        chart["id"] = f"area-chart-{len(charts) + 1}"
        charts.append(chart)
    header = [
        builder.t(x) for x in ("Indicator", "Series", "Period", "Value", "Unit", "Note", "Source")
    ] + ["OBS_STATUS", "CONF_STATUS"]
    children = sorted(
        (c for c in builder.children.get(area, ()) if c in with_pages), key=builder.name
    )
    parent = builder.parents.get(area)
    rows = figures.rows
    return {
        "rows": body,
        "charts": charts,
        "csv": csv_href(header, csv_rows),
        "csv_name": f"{slug(area)}.csv",
        "sources": builder.sources(rows) if rows is not None and len(rows) else [],
        "children": [
            {"name": builder.name(c), "level": level_word(builder, c), "href": href(c)}
            for c in children
        ],
        "parent": {
            "name": builder.name(parent),
            "href": href(parent) if parent in with_pages else None,
        }
        if isinstance(parent, str) and parent != builder.country
        else None,
        "baselines": area_baselines(builder, area, baselines),
        "series_count": len(body),
    }


def area_baselines(builder: ProfileBuilder, area: str, baselines: pd.DataFrame) -> list[dict]:
    if not len(baselines):
        return []
    found = []
    for row in baselines[baselines["ref_area"] == area].to_dict(orient="records"):
        indicator = builder.catalogue.get(row["indicator_id"])
        unit = row.get("unit_measure")
        found.append(
            {
                "project": row["project"],
                "indicator": builder.series_name(row["series"], indicator)
                if isinstance(row.get("series"), str)
                else (indicator.name if indicator else row["indicator_id"]),
                "role": builder.t(ROLES[row["role"]]) if row.get("role") in ROLES else row["role"],
                "period": row.get("time_period") or "",
                "value": builder.shown(row, unit),
                "unit": builder.unit_name(unit),
                "note": builder.note(row),
            }
        )
    return found


def area_tree(builder: ProfileBuilder, codes: list[str], href) -> list[dict]:
    """The areas with a page, nested under their parents (regions first)."""
    present = set(codes)
    counted = builder.frame[builder.frame["ref_area"].isin(present)].groupby("ref_area")["series"]
    series_counts = counted.nunique().to_dict()

    def node(code: str) -> dict:
        kids = sorted((c for c in present if builder.parents.get(c) == code), key=builder.name)
        return {
            "name": builder.name(code),
            "href": href(code),
            "level": level_word(builder, code),
            "count": series_counts.get(code, 0),
            "children": [node(k) for k in kids],
        }

    tops = [c for c in present if builder.parents.get(c) not in present]
    return [node(c) for c in sorted(tops, key=builder.name)]


def statuses_for(editions: dict[str, Edition], builders: dict[str, ProfileBuilder]) -> None:
    """Each shown edition's reporting and disaggregation statuses (in place)."""
    for country, edition in editions.items():
        builder = builders[country]
        catalogue = list(builder.catalogue.values())
        edition.statuses = edition_statuses(catalogue, builder.frame, builder.manifest)


STATUS_WORDS = {"reporting": REPORTING_STATUSES, "disaggregation": DISAGGREGATION_STATUSES}
