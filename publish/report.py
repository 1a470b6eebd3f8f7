"""The Extended Migration Profile of one country as one self-contained HTML file, in one of the
working group's languages, built from a published snapshot: a summary, key data, Part A
(trends), Part B (impact), Part C (governance), Part D (data gaps), sub-national figures and a
methodological annex, with charts drawn in the browser from data embedded in the page (no
network needed), the data behind every chart, and the sources under every table and chart."""

from __future__ import annotations

import csv
import io
import json
import re
from functools import lru_cache
from pathlib import Path
from urllib.parse import quote

import duckdb
import pandas as pd
import pycountry
from babel import Locale, UnknownLocaleError
from babel.numbers import get_decimal_symbol, get_group_symbol
from jinja2 import Environment, FileSystemLoader
from markupsafe import Markup

from indicators.catalogue import Indicator
from indicators.census import age_as_total
from indicators.flags import OBS_STATUS_LABELS, SUPPRESSION_LABELS
from indicators.methods import LOWER_BOUND
from indicators.totals import computed_totals
from indicators.translations import code_label, localised_catalogue, term
from publish.approvals import APPROVED, DRAFT, WITHDRAWN, edition_status
from publish.charts import ChartWords, NumberStyle, chart_svg
from publish.findings import key_findings
from publish.profile_data import TOTALS, totals, yearly
from publish.snapshot_check import read_manifest
from publish.snapshots import INDICATORS_FILE, OVERLAPS_FILE, rests_on
from sources.atomic import write_atomically
from sources.geography import REFERENCE_DIR, admin_areas
from sources.governance import KINDS, STATUSES, GovernanceError, governance_entries
from sources.i18n import (
    LANGUAGE_NAMES,
    N_,
    SOURCE_LANGUAGE,
    _,
    babel_locale,
    format_day,
    format_number,
    format_share,
    localise,
    text_direction,
    translations,
)
from sources.place_names import place_name
from sources.recommendations import STATUSES as RECOMMENDATION_STATUSES
from sources.recommendations import RecommendationError, recommendations
from sources.reporting import STATUSES as REPORTING_STATUSES
from sources.reporting import by_dataset
from sources.reporting import rates as reporting_rates
from sources.source_names import source_covers, source_label
from sources.specs import spec_set
from sources.synthetic import synthetic_sources

TEMPLATES = Path(__file__).parent / "templates"
PARTS = {
    "A": [
        "Immigration",
        "Emigration and diaspora",
        "Return",
        "Forced migration",
        "Internal migration",
    ],
    "B": ["Remittances", "Labour market", "Education"],
    "Annex": ["SDG migration indicators"],
}
KEY_DATA = (
    "IMM_STOCK",
    "IMM_STOCK_PCT",
    "IMM_FEMALE_PCT",
    "CEN_FOREIGN_BORN",
    "EMI_STOCK",
    "EMI_RATE",
    "REF_HOSTED",
    "REF_ABROAD",
    "REM_IN_USD",
    "SDG_17_3_2",
    "SDG_10_c_1",
    "SDG_10_7_4",
)
FIRST_TIER = {"region", "development_region"}
SUBNATIONAL = {"region", "development_region", "province", "district", "prefecture"}
DECIMALS = {"PT": 1, "PER_100000": 1, "PER_1000": 1, "USD_PER_PERSON": 1}
SYNTHETIC_NOTE = N_("synthetic data (a generated sample), not official statistics")
CONFIDENTIAL = N_(
    "confidential: suppressed by disclosure control (primary: too few census records; "
    "secondary: hidden so that the primary cell cannot be worked out by subtraction)"
)
EDITION_STATUSES = {
    DRAFT: N_("draft, not approved"),
    WITHDRAWN: N_("draft: approval withdrawn"),
    APPROVED: N_("approved edition"),
}
SEVERITY_WORDS = {"warn": N_("warning"), "error": N_("error")}
_SOURCE_ID = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b")
_SERIES_PREFIX = re.compile(r"^[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+:\s*")
_AGE_RANGE = re.compile(r"Y(\d+)T(\d+)")
_AGE_UNDER = re.compile(r"Y_LT(\d+)")
_AGE_OVER = re.compile(r"Y_GE(\d+)")


@lru_cache(maxsize=8)
def _profile_rows(folder: Path, synthetic: frozenset[str]) -> pd.DataFrame:
    """A snapshot's values with the totals computed from breakdowns, each marked synthetic or
    not; read once for all the languages a profile is written in."""
    frame = pd.read_parquet(folder / INDICATORS_FILE)
    if "computed" not in frame:  # an edition published before totals were computed upstream
        totals = _edition_totals(folder / INDICATORS_FILE, "preferred" in frame)
        frame = pd.concat([frame.assign(computed=None), totals], ignore_index=True)
    frame["synthetic"] = frame["source_ids"].map(lambda ids: rests_on(ids, synthetic))
    # plain Python strings: the report takes hundreds of small slices, each far cheaper on
    # NumPy object arrays than on Arrow-backed strings
    text = [c for c in frame.columns if pd.api.types.is_string_dtype(frame[c].dtype)]
    return frame.astype({c: object for c in text})


def _edition_totals(path: Path, has_preferred: bool) -> pd.DataFrame:
    """The totals an edition's values imply (indicators.totals), computed from its file."""
    with duckdb.connect() as con:
        rows = con.read_parquet(str(path))
        (rows if has_preferred else rows.project("*, true AS preferred")).create_view("edition")
        return computed_totals(con, "edition", skip_computed=False)


@lru_cache(maxsize=8)  # a site takes every country in turn, in each language
def _shared_slices(folder: Path, synthetic: frozenset[str]) -> dict:
    """Slices of a snapshot's rows that do not depend on the language, shared by the reports
    of every language (filled as they are first asked for)."""
    return {}


def profile_languages(country: str) -> tuple[str, list[str]]:
    """The country's default report language and the languages its report is offered in
    (sources/reference/profile_languages.csv); English for a country not listed."""
    with open(REFERENCE_DIR / "profile_languages.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            if row["country"] == country:
                languages = [x for x in row["languages"].split(";") if x]
                return row["default_language"], languages
    return SOURCE_LANGUAGE, [SOURCE_LANGUAGE]


def age_label(code: str, language: str = SOURCE_LANGUAGE) -> str:
    """SDMX age codes as readers write them: Y15T19 -> 15-19, Y_LT15 -> under 15."""
    if code == "_U":
        return code_label("_U", language) or code
    if code == "_T":
        return code_label("_T", language) or code
    found = _AGE_RANGE.fullmatch(code)
    if found:
        return f"{found[1]}-{found[2]}"
    found = _AGE_UNDER.fullmatch(code)
    if found:
        return _("under {age}", language=language, age=found[1])
    found = _AGE_OVER.fullmatch(code)
    if found:
        return _("{age} and over", language=language, age=found[1])
    return code


def csv_href(header: list[str], rows: list[list]) -> str:
    """A data: address holding the rows as CSV, so a chart's data downloads offline."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return "data:text/csv;charset=utf-8," + quote("\ufeff" + buffer.getvalue())


class ProfileBuilder:
    """Everything the template shows, from one snapshot, in one language."""

    def __init__(
        self,
        folder: Path,
        language: str | None = None,
        previous: Path | None = None,
        chart_cache: Path | None = None,
    ) -> None:
        """`chart_cache`: where drawn charts are kept between builds (publish/chart_cache.py)."""
        self.folder = Path(folder)
        self.chart_cache = chart_cache
        self.manifest = read_manifest(self.folder)  # refuses a tampered edition
        self.country = self.manifest["profile"]
        default, offered = profile_languages(self.country)
        self.language = language or default
        self.languages = offered if self.language in offered else [*offered, self.language]
        found = pycountry.countries.get(alpha_3=self.country)
        self.alpha2 = found.alpha_2 if found else None
        self.previous = previous
        snapshots = self.folder.parent.parent
        self.status = edition_status(snapshots, self.country, self.folder.name)
        self.previous_approved = previous is not None and (
            edition_status(snapshots, self.country, Path(previous).name) == APPROVED
        )
        if "synthetic_sources" in self.manifest:
            self.synthetic_sources = set(self.manifest["synthetic_sources"])
        else:  # a snapshot written before sources were marked: the specs in force say
            self.synthetic_sources = set(synthetic_sources(spec_set(None).specs))
        self.frame = _profile_rows(self.folder, frozenset(self.synthetic_sources))
        self.catalogue = {i.id: i for i in localised_catalogue(self.language)}
        admin = admin_areas().sort_values("valid_to", na_position="last")
        self.levels = dict(zip(admin["code"], admin["level"], strict=True))
        self.parents = dict(zip(admin["code"], admin["parent_code"], strict=True))
        self.children: dict[str, list[str]] = {}
        for child, parent in self.parents.items():
            if isinstance(parent, str):
                self.children.setdefault(parent, []).append(child)
        self._sources: dict[tuple, list[str]] = {}
        self.charts: list[dict] = []
        locale = babel_locale(self.language, self.alpha2)
        self.numbers = NumberStyle(
            decimal=get_decimal_symbol(locale),
            group=get_group_symbol(locale),
            rtl=text_direction(self.language) == "rtl",
        )
        self.chart_words = ChartWords(
            value=self.t("value as reported"),
            flagged=self.t("value with a flag (see the data table)"),
            confidential=self.t("confidential"),
            missing=self.t("no value"),
        )

    # --- words ---------------------------------------------------------------------------

    def t(self, message: str, **params: object) -> str:
        return _(message, language=self.language, **params)

    def number(self, value: float | None, unit: str | None) -> str:
        """A value as a reader of this language expects it: 98 574, 2,6, 6 904 millions USD."""
        if value is None or value != value:
            return "–"
        if unit == "USD" and abs(value) >= 1e6:
            amount = format_number(value / 1e6, self.language, 0, self.alpha2)
            return self.t("USD {amount} million", amount=amount)
        return format_number(value, self.language, DECIMALS.get(unit or "", 0), self.alpha2)

    @staticmethod
    def scale(value: float | None, unit: str | None) -> int:
        """The power of ten a shown value is written in (6: USD 6 904 million)."""
        return (
            6 if unit == "USD" and value is not None and value == value and abs(value) >= 1e6 else 0
        )

    def unit_name(self, unit: str | None) -> str:
        return term("units", unit or "", self.language) or (unit or "")

    def name(self, code: str) -> str:
        return (
            code_label(code, self.language)
            if code.startswith("_")
            else place_name(code, self.language)
        )

    def series_name(self, series: str, indicator: Indicator | None = None) -> str:
        return term("series", series, self.language) or (
            indicator.name if indicator else series.replace("_", " ").lower()
        )

    def label(self, dimension: str, code: str) -> str:
        """A human label for a code: areas by name, ages as ranges, the rest in words."""
        if dimension in ("ref_area", "counterpart_area"):
            return self.name(code)
        if dimension == "age":
            return age_label(code, self.language)
        return code_label(code, self.language) or code.replace("_", " ").lower()

    def flag(self, row: pd.Series | dict) -> str | None:
        """A value's flags for the reader, with the reason the comment gives."""
        notes = []
        status = row.get("obs_status")
        if row.get("conf_status") == "C":
            notes.append(self.t(SUPPRESSION_LABELS.get(row.get("suppression"), "Confidential")))
        elif isinstance(status, str) and status != "A":
            label = self.t(OBS_STATUS_LABELS.get(status, status))
            comment = row.get("comment")
            computed = row.get("computed")
            if (
                isinstance(comment, str)
                and comment
                and not (isinstance(computed, str) and computed)
            ):
                label = f"{label}: {self.named_sources(localise(comment, self.language))}"
            notes.append(label)
        elif row.get("comment") == LOWER_BOUND:  # recorded events: no flag, but never a total
            notes.append(self.t(LOWER_BOUND))
        computed = row.get("computed")
        if isinstance(computed, str) and computed:
            notes.append(self._computed_note(computed))
        return "; ".join(notes) or None

    def _computed_note(self, pattern: str) -> str:
        names = {
            "sex": N_("sex"),
            "age": N_("age"),
            "breakdown": N_("category"),
            "counterpart_area": N_("partner country"),
            "migrant_status": N_("migrant status"),
        }
        what = self.t(" and ").join(self.t(names.get(d, d)) for d in pattern.split("+"))
        return self.t("computed: the sum of the reported values by {what}", what=what)

    def sources(self, rows: pd.DataFrame) -> list[str]:
        """Each source by its publisher's name, with the edition used (no internal ids)."""
        return self._named_sources(rows["source_vintages"], rows["source_ids"])

    def row_sources(self, row: dict) -> str:
        """The sources of one value, in words, for its line of a CSV."""
        vintages, ids = row.get("source_vintages"), row.get("source_ids")
        key = (
            tuple(vintages if vintages is not None else ()),
            tuple(ids if ids is not None else ()),
        )
        if key not in self._sources:
            self._sources[key] = self._named_sources([key[0]], [key[1]])
        return "; ".join(self._sources[key])

    def _named_sources(self, vintage_lists, id_lists) -> list[str]:
        named = set()
        for vintages in vintage_lists:
            for vintage in vintages:
                source, _sep, edition = str(vintage).partition(": ")
                edition = self.edition(re.sub(r"\s*\(sha256 [0-9a-f]+\)$", "", edition))
                named.add(
                    f"{source_label(source, self.language)} ({edition})"
                    if edition
                    else source_label(source, self.language)
                )
        if not named:
            named = {source_label(s, self.language) for ids in id_lists for s in ids}
        return sorted(named)

    def named_sources(self, text: str) -> str:
        """A stored comment with each source id it names ("wb_bilateral_migration includes
        Abkhazia") replaced by the source's name in the reader's language."""

        def name(found: re.Match) -> str:
            label = source_label(found.group(0), self.language)
            return label if label and label != found.group(0) else found.group(0)

        return _SOURCE_ID.sub(name, text)

    @staticmethod
    def edition(text: object) -> str:
        """An edition as a reader names it: without the series code a ministry file's title
        opens with ("MAR_MAE: Marocains immatriculés" -> "Marocains immatriculés"), and
        without the codebook of a census (the source's name says which census)."""
        text = _SERIES_PREFIX.sub("", str(text or ""))
        return "" if text.startswith("codebook ") else text

    # --- rows ------------------------------------------------------------------------------

    def rows(self, indicator_id: str) -> pd.DataFrame:
        shared = _shared_slices(self.folder, frozenset(self.synthetic_sources))
        if "by_indicator" not in shared:  # split once for every language: sections read by it
            shared["by_indicator"] = dict(list(self.frame.groupby("indicator_id", sort=False)))
        return shared["by_indicator"].get(indicator_id, self.frame.iloc[0:0])

    def totals(self, indicator_id: str) -> pd.DataFrame:
        cache = _shared_slices(self.folder, frozenset(self.synthetic_sources))
        cache = cache.setdefault("totals", {})
        if indicator_id not in cache:
            cache[indicator_id] = totals(self.rows(indicator_id))
        return cache[indicator_id]

    def national(self, indicator_id: str) -> pd.DataFrame:
        rows = self.totals(indicator_id)
        return rows[(rows["ref_area"] == self.country) & (rows["counterpart_area"] == "_T")]

    def latest(self, indicator_id: str) -> list[dict]:
        """Latest national total of each series of the indicator."""
        out = []
        indicator = self.catalogue.get(indicator_id)
        rows = self.national(indicator_id).dropna(subset=["obs_value"])
        for series, group in rows.groupby("series"):
            last = group.sort_values("time_period").iloc[-1]
            out.append(
                {
                    "indicator_id": indicator_id,
                    "series_code": series,
                    "series": self.series_name(series, indicator),
                    "flag": self.flag(last),
                    "synthetic": bool(last["synthetic"]),
                    "value": self.number(last["obs_value"], last["unit_measure"]),
                    "value_key": last.get("value_key"),
                    "scale": self.scale(last["obs_value"], last["unit_measure"]),
                    "raw_value": float(last["obs_value"]),
                    "unit": self.unit_name(last["unit_measure"]),
                    "unit_code": last["unit_measure"],
                    "period": last["time_period"],
                    "key": {k: last[k] for k in ("indicator_id", "series", "ref_area")},
                    "sources": self.sources(group.tail(1)),
                }
            )
        return out

    # --- charts ----------------------------------------------------------------------------

    def state(self, row: dict) -> str:
        """How a value is drawn: as a value, as a flagged value, or as a word (no bar, no 0)."""
        if row.get("conf_status") == "C":
            return "confidential"
        value = row.get("obs_value")
        if value is None or value != value:
            return "missing"
        status = row.get("obs_status")
        computed = row.get("computed")
        if (isinstance(status, str) and status != "A") or (isinstance(computed, str) and computed):
            return "flagged"
        return "value"

    def note(self, row: dict, synthetic_said: bool = False) -> str:
        """Every flag a value carries, in words: the table cell beside it (without "synthetic
        data" where the chart or table already says it of every value)."""
        parts = [self.flag(row) or ""]
        if row.get("synthetic") and not synthetic_said:
            parts.insert(0, self.t("synthetic data"))
        return "; ".join(p for p in parts if p)

    def shown(self, row: dict, unit: str | None) -> str:
        """A value as the tables show it: the number, or the word for why there is none."""
        state = self.state(row)
        if state == "confidential":
            return self.t("confidential")
        if state == "missing":
            return self.t("no value")
        return self.number(row["obs_value"], unit)

    def _chart(
        self,
        kind: str,
        title: str,
        unit: str,
        labelled: list[tuple[object, dict]],
        rows: pd.DataFrame,
        header: str,
        series: list[str] | None = None,
    ) -> dict:
        """A chart and its data: `labelled` pairs a label (a year, a category in words) with
        the row of its value. Charts, tables and downloads show the same values and flags."""
        synthetic = bool(rows["synthetic"].any()) if "synthetic" in rows else False
        every_synthetic = all(bool(r.get("synthetic")) for _label, r in labelled)
        number = len(self.charts) + 1
        values = [r.get("obs_value") for _label, r in labelled]
        largest = max((abs(v) for v in values if v is not None and v == v), default=0.0)
        scale, axis_unit = 1.0, self.unit_name(unit)
        if unit == "USD" and largest >= 1e6:  # as the tables write it: USD 6 904 million
            scale, axis_unit = 1e6, self.t("millions of US dollars")
        points = []
        for label, row in labelled:
            state = self.state(row)
            value = row.get("obs_value") if state in ("value", "flagged") else None
            points.append(
                {"label": label, "value": None if value is None else value / scale, "state": state}
            )
        table = [
            [
                str(label),
                self.shown(row, unit),
                self.note(row),
                row.get("value_key"),
                self.scale(row.get("obs_value"), unit),
                # the print line: the badge beside the title says "synthetic data" of every value
                self.note(row, synthetic_said=every_synthetic),
            ]
            for label, row in labelled
        ]
        unit_words = self.unit_name(unit)
        csv_rows = [
            [
                label,
                "" if self.state(row) in ("confidential", "missing") else row.get("obs_value"),
                unit_words,
                self.note(row),
                self.series_name(row["series"]) if row.get("series") else title,
                self.row_sources(row),
                row.get("obs_status") or "",
                row.get("conf_status") or "",
            ]
            for label, row in labelled
        ]
        csv_header = [
            header,
            self.t("Value"),
            self.t("Unit"),
            self.t("Note"),
            self.t("Series"),
            self.t("Source"),
        ]
        notes = {row[5] for row in table}
        chart = {
            "id": f"chart-{number}",
            "kind": kind,
            # in print, two bars say no more than their two numbers: the line of values stays
            "drawn_in_print": kind != "bar" or len(points) > 2,
            # one note every value carries is said once in print, not after each value
            "common_note": notes.pop() if len(notes) == 1 and len(table) > 1 else None,
            "title": title,
            "unit": unit_words,
            "series": series or [],
            "synthetic": synthetic,
            "sources": self.sources(rows),
            "header": [header, unit_words, self.t("Note")],
            "table": table,
            "flagged": any(p["state"] != "value" for p in points),
            "csv": csv_href([*csv_header, "OBS_STATUS", "CONF_STATUS"], csv_rows),
            "csv_name": f"{self.country}_{number}.csv",
            "svg": Markup(
                chart_svg(
                    kind,
                    points,
                    axis_unit,
                    DECIMALS.get(unit, 0),
                    self.chart_words,
                    self.numbers,
                    self.chart_cache,
                )
            ),
            "alt": self.t(
                "{title}: {count} values, from {first} to {last}; the data table follows.",
                title=title,
                count=len(points),
                first=table[0][0] if table else "",
                last=table[-1][0] if table else "",
            ),
        }
        self.charts.append(chart)
        return chart

    @staticmethod
    def _records(group: pd.DataFrame) -> list[dict]:
        return group.to_dict(orient="records")

    def time_series(self, indicator: Indicator) -> list[dict]:
        charts = []
        rows = yearly(self.national(indicator.id)).dropna(subset=["obs_value"])
        for series, group in rows.groupby("series"):
            group = group.sort_values("time_period")
            if len(group) < 3 or not group["obs_value"].ne(0).any():
                continue  # too short for a line, or a line at zero: the table says it
            name = self.series_name(series, indicator)
            labelled = [(r["time_period"], r) for r in self._records(group)]
            charts.append(
                self._chart(
                    "line",
                    name,
                    group.unit_measure.iloc[0],
                    labelled,
                    group,
                    self.t("Year"),
                    [name],
                )
            )
        return charts

    def top_counterparts(self, indicator: Indicator, top: int = 10) -> list[dict]:
        rows = self.totals(indicator.id)
        rows = rows[(rows["counterpart_area"] != "_T") & rows["obs_value"].notna()]
        rows = rows[rows["obs_value"] != 0]  # a partner with nothing is not among the top
        rows = yearly(rows[rows["ref_area"] == self.country])
        if rows.empty:
            return []
        for series, group in rows.groupby("series"):
            latest = group[group["time_period"] == group["time_period"].max()]
            latest = latest.nlargest(top, "obs_value")
            if len(latest) < 2:
                continue
            labelled = [(self.name(r["counterpart_area"]), r) for r in self._records(latest)]
            title = self.t(
                "{series}: top {count} partner countries, {period}",
                series=self.series_name(series, indicator),
                count=len(labelled),
                period=latest.time_period.iloc[0],
            )
            return [
                self._chart(
                    "bar",
                    title,
                    latest.unit_measure.iloc[0],
                    labelled,
                    latest,
                    self.t("Partner country"),
                )
            ]
        return []

    def _is_first_tier(self, areas: pd.Series) -> pd.Series:
        return areas.map(lambda a: self.levels.get(a) in FIRST_TIER).astype(bool)

    def regions(self, indicator: Indicator) -> list[dict]:
        """The latest year by region: every region keeps its row, a confidential or missing
        one with the word for why (never a bar of 0)."""
        rows = self.totals(indicator.id)
        rows = rows[self._is_first_tier(rows["ref_area"]) & (rows["counterpart_area"] == "_T")]
        charts = []
        for series in indicator.series[:2] or sorted(set(rows.series))[:1]:
            group = rows[rows["series"] == series]
            if group["obs_value"].notna().sum() < 1 or len(group) < 2:
                continue
            group = group[group["time_period"] == group["time_period"].max()]
            group = group.assign(name=group["ref_area"].map(self.name))
            group = group.sort_values(["obs_value", "name"], ascending=[False, True])
            labelled = [(r["name"], r) for r in self._records(group)]
            period = group.time_period.iloc[0]
            title = self.t(
                "{series} by region, {period}",
                series=self.series_name(series, indicator),
                period=period,
            )
            chart = self._chart(
                "bar", title, group.unit_measure.iloc[0], labelled, group, self.t("Region")
            )
            chart["note"] = self._hidden_note(group)
            # the print edition draws the first series by region; the annex beside it (CSV,
            # XLSX) holds every series by region and province
            chart["in_print"] = not charts
            charts.append(chart)
        return charts

    def _hidden_note(self, rows: pd.DataFrame) -> str | None:
        """What a regional chart shows without a bar, by reason: confidential and
        cannot-exist cells are not zeros."""
        confidential = int((rows["conf_status"] == "C").sum()) if "conf_status" in rows else 0
        missing = int(((rows["conf_status"] != "C") & rows["obs_value"].isna()).sum())
        parts = []
        if confidential:
            parts.append(
                self.t(
                    "{count} region(s) confidential, without a bar: too few census records, or "
                    "protecting a cell that has",
                    count=confidential,
                )
            )
        if missing:
            parts.append(
                self.t("{count} region(s) with no value: the figure cannot exist", count=missing)
            )
        return "; ".join(parts) or None

    def breakdowns(self, indicator: Indicator) -> list[dict]:
        """The latest year of each national series by sex, age and category, in words."""
        rows = self.rows(indicator.id)
        if "preferred" in rows:
            rows = rows[rows["preferred"].fillna(True).astype(bool)]
        rows = yearly(rows[rows["ref_area"] == self.country])
        rows = rows[rows["counterpart_area"] == "_T"]
        charts = []
        headers = {"sex": N_("Sex"), "age": N_("Age"), "breakdown": N_("Category")}
        titles = {
            "sex": N_("{series} by sex, {period}"),
            "age": N_("{series} by age, {period}"),
            "breakdown": N_("{series} by category, {period}"),
        }
        for dimension in ("sex", "age", "breakdown"):
            others = [d for d in TOTALS if d != dimension]
            part = rows[rows[others].eq("_T").all(axis=1) & (rows[dimension] != "_T")]
            for series, group in part.groupby("series"):
                latest = group[group["time_period"] == group["time_period"].max()]
                if len(latest) < 2 or latest["obs_value"].notna().sum() < 1:
                    continue
                latest = latest.sort_values(dimension)
                labelled = [(self.label(dimension, r[dimension]), r) for r in self._records(latest)]
                title = self.t(
                    titles[dimension],
                    series=self.series_name(series, indicator),
                    period=latest.time_period.iloc[0],
                )
                charts.append(
                    self._chart(
                        "bar",
                        title,
                        latest.unit_measure.iloc[0],
                        labelled,
                        latest,
                        self.t(headers[dimension]),
                    )
                )
        return charts

    def by_migrant_status(self, indicator: Indicator) -> list[dict]:
        rows = self.rows(indicator.id)
        rows = rows[
            (rows["ref_area"] == self.country)
            & rows["migrant_status"].isin(["MS_MIGRANT", "MS_NOMIGRANT"])
            & (rows["sex"] == "_T")
            & (age_as_total(rows["age"]) == "_T")
        ]
        if rows["obs_value"].notna().sum() < 1:
            return []
        rows = rows[rows["time_period"] == rows["time_period"].max()]
        labelled = [
            (
                f"{self.series_name(r['series'], indicator)}: "
                f"{self.label('migrant_status', r['migrant_status'])}",
                r,
            )
            for r in self._records(rows)
        ]
        title = self.t(
            "{indicator}, {period}", indicator=indicator.name, period=rows.time_period.max()
        )
        return [
            self._chart(
                "bar", title, rows.unit_measure.iloc[0], labelled, rows, self.t("Migrant status")
            )
        ]

    # --- parts -----------------------------------------------------------------------------

    def module(self, module: str) -> dict:
        entries = [i for i in self.catalogue.values() if i.module == module]
        blocks = []
        for indicator in entries:
            charts = (
                self.time_series(indicator)
                + self.top_counterparts(indicator)
                + self.regions(indicator)
                + self.breakdowns(indicator)
                + (
                    self.by_migrant_status(indicator)
                    if indicator.module in ("Labour market", "Education")
                    else []
                )
            )
            blocks.append(
                {
                    "indicator": indicator,
                    "latest": self.latest(indicator.id),
                    "charts": charts,
                    "definition": " ".join(indicator.definition.split()),
                }
            )
        return {
            "id": "module-" + re.sub(r"[^a-z0-9]+", "-", module.lower()).strip("-"),
            "name": term("modules", module, self.language) or module,
            "blocks": blocks,
        }

    def gaps(self) -> list[dict]:
        """Part D: each core indicator missing or failing validation, and why, for the TWG."""
        validation = self.manifest.get("validation", {})
        country = self.name(self.country)
        found = []
        for gap in validation.get("gaps", []):
            indicator = self.catalogue.get(gap["indicator_id"])
            what = indicator.name if indicator else gap["indicator_id"]
            labels = dict.fromkeys(source_label(s, self.language) for s in gap.get("sources") or [])
            sources = ", ".join(labels)
            kind = gap.get("kind")
            if kind == "no_national_source":
                reason = self.t(
                    "No ministry or statistics-office file gives this for {country} yet; the "
                    "working group can declare one (a source spec).",
                    country=country,
                )
            elif kind == "not_loaded":
                reason = self.t(
                    "Nothing was loaded from {sources} in this refresh.", sources=sources
                )
            elif kind == "no_value" and len(labels) == 1:
                reason = self.t(
                    "{source} gives no value for {country}.", source=sources, country=country
                )
            elif kind == "no_value":
                reason = self.t(
                    "{sources} give no value for {country}.", sources=sources, country=country
                )
            else:
                reason = localise(gap.get("reason"), self.language)
            if indicator is not None and indicator.national_source:
                reason += " " + self.t(
                    "It would come from {source}.", source=indicator.national_source
                )
            found.append({"indicator": gap["indicator_id"], "name": what, "reason": reason})
        for check in validation.get("checks", []):
            if check.get("name") == "catalogue_coverage":
                continue  # its failures are the gaps listed above
            if not check.get("success"):
                found.append(
                    {
                        "indicator": check["name"],
                        "name": localise(check.get("description", ""), self.language),
                        "reason": self.t(
                            "validation {severity}: {count} failing value(s)",
                            severity=self.t(SEVERITY_WORDS.get(check["severity"], "warning")),
                            count=check.get("failure_count", 0),
                        ),
                    }
                )
        return found

    def overlaps(self, top: int = 30) -> dict:
        """Part D: where two sources give one value key and differ beyond the indicator's
        tolerance, and the values published from another source than their series (breaks)."""
        path = self.folder / OVERLAPS_FILE
        frame = pd.read_parquet(path) if path.exists() else pd.DataFrame()
        flagged = frame[frame["flagged"]] if len(frame) else frame
        rows = []
        if len(flagged):
            order = flagged["relative_difference"].abs().fillna(float("inf"))
            for r in flagged.loc[order.sort_values(ascending=False).index[:top]].itertuples():
                indicator = self.catalogue.get(r.indicator_id)
                rows.append(
                    {
                        "indicator": indicator.name if indicator else r.indicator_id,
                        "area": self.name(r.ref_area),
                        "period": r.time_period,
                        "preferred": f"{self.number(r.preferred_value, r.unit_measure)} "
                        f"({source_label(r.preferred_source, self.language)})",
                        "other": f"{self.number(r.other_value, r.unit_measure)} "
                        f"({source_label(r.other_source, self.language)})",
                        "difference": format_number(
                            r.relative_difference * 100, self.language, 1, self.alpha2
                        )
                        + " %"
                        if pd.notna(r.relative_difference)
                        else "–",
                    }
                )
        breaks = self.frame[
            (self.frame["obs_status"] == "B")
            & self.frame["ref_area"].isin([self.country, *self.levels])
        ]
        return {
            "count": len(frame),
            "flagged": int(len(flagged)),
            "rows": rows,
            "breaks": [
                {
                    "indicator": self.catalogue[i].name if i in self.catalogue else i,
                    "area": self.name(a),
                    "periods": ", ".join(sorted(set(g.time_period))[:12]),
                    "source": ", ".join(
                        sorted(
                            {source_label(s, self.language) for ids in g.source_ids for s in ids}
                        )
                    ),
                }
                for (i, a), g in breaks.groupby(["indicator_id", "ref_area"])
            ][:top],
        }

    def reporting(self) -> dict:
        """Part D: what the register says each ministry or office owes and what had arrived
        when the edition was made, per dataset, with completeness and timeliness rates."""
        validation = self.manifest.get("validation", {})
        rows = validation.get("reporting") or []

        def periods(found: list[str]) -> Markup:
            shown = Markup(", ").join(
                Markup('<span class="period">{}</span>').format(p) for p in found[:8]
            )
            return shown + (" …" if len(found) > 8 else "")

        datasets = [
            {
                **line,
                **{status: periods(line[status]) for status in REPORTING_STATUSES},
                "counts": {status: len(line[status]) for status in REPORTING_STATUSES},
                "received_at": format_day(line["received_at"][:10], self.language, self.alpha2)
                if line["received_at"]
                else "",
                "reasons": [localise(r, self.language) for r in line["reasons"]],
            }
            for line in by_dataset(rows)
        ]
        shares = [
            {
                **rate,
                "ministry_name": rate["ministry_name"] or self.t("All ministries and offices"),
                "completeness": format_share(rate["completeness"], self.language, self.alpha2),
                "timeliness": format_share(rate["timeliness"], self.language, self.alpha2),
            }
            for rate in reporting_rates(rows)
        ]
        return {
            "datasets": datasets,
            "rates": shares,
            "as_of": format_day(self.manifest["created_at"], self.language, self.alpha2),
            "problem": Markup('<bdi dir="ltr">{}</bdi>').format(validation["reporting_problem"])
            if validation.get("reporting_problem")
            else None,
        }

    def recommendations(self) -> list[dict]:
        """Part D: the working group's recommendations, in the reader's language where
        written; a file that cannot be read leaves them out with the reason."""
        try:
            found = recommendations(self.country)
        except RecommendationError as err:
            self.recommendations_problem = str(err)
            return []
        rows = []
        for r in found:
            topic, topic_lang = r.in_language("topic", self.language)
            text, text_lang = r.in_language("text", self.language)
            rows.append(
                {
                    "topic": topic,
                    "topic_lang": topic_lang,
                    **self._title(text, text_lang),
                    "status": self.t(RECOMMENDATION_STATUSES[r.status]),
                    "by": r.by,
                    "answers": [
                        self.catalogue[i].name if i in self.catalogue else i for i in r.answers
                    ],
                }
            )
        return rows

    def governance(self) -> list[dict]:
        """Part C: the working group's registry, in the reader's language where given; a
        registry that cannot be read leaves Part C empty with the reason (`governance_problem`),
        never the profile unwritten."""
        try:
            entries = governance_entries(self.country)
        except GovernanceError as err:
            self.governance_problem = str(err)
            return []
        return [
            {
                "kind": self.t(KINDS[e.kind]),
                **self._title(*e.title_for(self.language)),
                "date": format_day(e.date, self.language, self.alpha2),
                "status": self.t(STATUSES[e.status]),
                "source": e.source,
                "url": e.url,
            }
            for e in entries
        ]

    def _title(self, title: str, language: str) -> dict:
        """A title in the reader's language, or in its original one with that language named
        ("Loi n° 02-03 … (en français)")."""
        if language == self.language:
            return {"title": title, "title_lang": None, "title_note": None}
        try:
            named = Locale.parse(self.language).languages.get(language, language)
        except (UnknownLocaleError, ValueError):
            named = language
        return {
            "title": title,
            "title_lang": language,
            "title_note": self.t("original title, in {original}", original=named),
        }

    def subnational(self, limit: int | None = 40) -> list[dict]:
        """Sortable tables: the latest value of each series by region and province, with
        confidential and missing cells marked, never left blank."""
        rows = totals(self.frame)
        rows = rows[
            rows["ref_area"].map(lambda a: self.levels.get(a) in SUBNATIONAL).astype(bool)
            & (rows["counterpart_area"] == "_T")
            & rows["time_period"].str.fullmatch(r"\d{4}")
        ]
        tables = []
        for (indicator_id, series), group in rows.groupby(["indicator_id", "series"]):
            group = group[group["time_period"] == group["time_period"].max()]
            if group["ref_area"].nunique() < 2:
                continue
            indicator = self.catalogue.get(indicator_id)
            unit = group["unit_measure"].iloc[0]
            body = []
            for row in group.sort_values("ref_area").to_dict(orient="records"):
                level = self.levels.get(row["ref_area"], "")
                parent = self.parents.get(row["ref_area"])
                value = row["obs_value"]
                body.append(
                    {
                        "area": self.name(row["ref_area"]),
                        "level": self.t(LEVEL_NAMES[level]) if level in LEVEL_NAMES else level,
                        "parent": self.name(parent) if isinstance(parent, str) else "",
                        "value": self.shown(row, unit),
                        "value_key": row.get("value_key"),
                        "scale": self.scale(value, unit),
                        "sort": "" if value != value else f"{float(value):.6f}",
                        "note": self.note(row),
                        "hidden": row.get("conf_status") == "C" or row.get("obs_status") == "M",
                    }
                )
            tables.append(
                {
                    "id": f"subnational-{len(tables) + 1}",
                    "title": self.t(
                        "{series}, {period}",
                        series=self.series_name(series, indicator),
                        period=group["time_period"].iloc[0],
                    ),
                    "unit": self.unit_name(unit),
                    "rows": body,
                    "synthetic": bool(group["synthetic"].any()),
                }
            )
            if limit is not None and len(tables) >= limit:
                break
        return tables

    def summary(self, key_data: list[dict], gaps: list[dict]) -> dict:
        """The executive summary: key figures with their change since the previous snapshot
        (as `emp diff` computes it), what changed overall, and the main data gaps."""
        changes: dict[tuple, dict] = {}
        counts = None
        previous_version = None
        if self.previous is not None and (self.previous / INDICATORS_FILE).exists():
            from publish.diff import _values, diff_snapshots

            read_manifest(self.previous)
            result = diff_snapshots(self.previous, self.folder)
            counts = result["counts"]
            previous_version = result["old"]
            before = _values(self.previous)
            before = before[before["obs_value"].notna()]
            for row in key_data:
                same = before[
                    (before["indicator_id"] == row["key"]["indicator_id"])
                    & (before["series"] == row["key"]["series"])
                    & (before["ref_area"] == row["key"]["ref_area"])
                    & (before["counterpart_area"] == "_T")
                    & (before["sex"] == "_T")
                    & (age_as_total(before["age"]) == "_T")
                    & (before["migrant_status"] == "_T")
                    & (before["breakdown"] == "_T")
                ]
                if same.empty:
                    changes[id(row)] = {"text": self.t("new in this edition")}
                    continue
                last = same.sort_values("time_period").iloc[-1]
                was = self.number(last["obs_value"], row["unit_code"])
                if last["time_period"] == row["period"] and abs(
                    last["obs_value"] - row["raw_value"]
                ) <= 1e-9 * max(1.0, abs(row["raw_value"])):
                    changes[id(row)] = {"text": self.t("unchanged")}
                elif last["time_period"] == row["period"]:
                    changes[id(row)] = {"text": self.t("revised; was {value}", value=was)}
                else:
                    changes[id(row)] = {
                        "text": self.t(
                            "newer period; was {value} in {period}",
                            value=was,
                            period=last["time_period"],
                        )
                    }
        figures = []
        seen = set()
        for row in key_data:
            if row["indicator_id"] in seen:
                continue
            seen.add(row["indicator_id"])
            figures.append({**row, "change": changes.get(id(row), {}).get("text")})
        gap_count = sum(1 for g in gaps if g["indicator"] in self.catalogue)
        return {
            "findings": key_findings(self, gap_count),
            "figures": figures[:8],
            "previous": previous_version,
            "counts": counts,
            "gaps": gaps[:6],
            "gap_count": len(gaps),
        }

    def annex(self) -> list[dict]:
        """The methodological annex: one entry per indicator, from the catalogue."""
        entries = []
        for indicator in self.catalogue.values():
            rows = self.rows(indicator.id)
            flags = sorted({str(f) for f in rows["obs_status"].dropna()} - {"A"})
            if (rows["conf_status"] == "C").any():
                flags.append("C")
            entries.append(
                {
                    "id": indicator.id,
                    "name": indicator.name,
                    "definition": " ".join(indicator.definition.split()),
                    "formula": indicator.formula,
                    "numerator": indicator.numerator,
                    "denominator": indicator.denominator,
                    "official": indicator.official_definition,
                    "unit": self.unit_name(indicator.unit),
                    "sources": ", ".join(
                        dict.fromkeys(
                            source_label(s, self.language)
                            for s in indicator.sources
                            if source_covers(s, self.country)
                        )
                    ),
                    # the codes: the annex's opening list says each in words
                    "flags": [f for f in flags if f in self.flag_words()],
                    "synthetic": bool(rows["synthetic"].any()),
                }
            )
        return entries

    def flag_words(self) -> dict[str, str]:
        """The flags a reader meets, in words (SDMX OBS_STATUS, and CONF_STATUS C)."""
        words = {code: self.t(label) for code, label in OBS_STATUS_LABELS.items() if label}
        words["C"] = self.t(CONFIDENTIAL)
        return words

    def context(self) -> dict:
        key_data = []
        for indicator_id in KEY_DATA:
            indicator = self.catalogue.get(indicator_id)
            for latest in self.latest(indicator_id) if indicator else []:
                key_data.append({"name": indicator.name, **latest})
        parts = [
            {
                "id": f"part-{code.lower()}",
                "title": term("parts", code, self.language),
                "modules": [self.module(m) for m in modules],
            }
            for code, modules in PARTS.items()
        ]
        annex_parts = [part for part in parts if part["id"] == "part-annex"]
        parts = [part for part in parts if part["id"] != "part-annex"]
        gaps = self.gaps()
        locale = babel_locale(self.language, self.alpha2)
        return {
            "lang": self.language,
            "dir": text_direction(self.language),
            "locale": str(locale).replace("_", "-"),
            "languages": [
                {"code": code, "name": LANGUAGE_NAMES.get(code, code)} for code in self.languages
            ],
            "country": self.country,
            "country_name": self.name(self.country),
            "manifest": self.manifest,
            "published": format_day(self.manifest["created_at"], self.language, self.alpha2),
            "status": self.t(EDITION_STATUSES[self.status]),
            "is_draft": self.status != APPROVED,
            "previous_approved": self.previous_approved,
            "key_data": key_data,
            "summary": self.summary(key_data, gaps),
            "parts": parts,
            "annex_parts": annex_parts,
            "part_c_title": term("parts", "C", self.language),
            "part_d_title": term("parts", "D", self.language),
            "governance": self.governance(),
            "recommendations": self.recommendations(),
            "reporting": self.reporting(),
            "recommendations_problem": Markup('<bdi dir="ltr">{}</bdi>').format(
                self.recommendations_problem
            )
            if getattr(self, "recommendations_problem", None)
            else None,
            # the reason names a file and a field: left to right inside a right-to-left page
            "governance_problem": Markup('<bdi dir="ltr">{}</bdi>').format(self.governance_problem)
            if getattr(self, "governance_problem", None)
            else None,
            "gaps": gaps,
            "overlaps": self.overlaps(),
            "subnational": self.subnational(),
            "annex": self.annex(),
            "flag_words": self.flag_words(),
            "synthetic_note": self.t(SYNTHETIC_NOTE),
            "any_synthetic": bool(self.frame["synthetic"].any()),
            "held_back": [
                {**h, "reason": localise(h.get("reason"), self.language)}
                for h in self.manifest.get("validation", {}).get("held_back", [])
            ],
            "inputs": [
                {
                    **i,
                    "label": source_label(i["source_id"], self.language),
                    "vintage": self.edition(i.get("vintage")),
                }
                for i in self.manifest["inputs"]
            ],
            "chart_count": len(self.charts),
            "ui": script_safe_json(
                {
                    "locale": str(locale).replace("_", "-"),
                    "group": get_group_symbol(locale),
                    "decimal": get_decimal_symbol(locale),
                    "synthetic": self.t("synthetic data"),
                    "sort": self.t("Sort by this column"),
                }
            ),
        }


def script_safe_json(data: object) -> str:
    """JSON to embed in a <script> element: <, > and & as \\u escapes, so no label can close
    the element or open a comment."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


#: Area levels in words.
LEVEL_NAMES = {
    "region": N_("region"),
    "development_region": N_("development region"),
    "province": N_("province"),
    "district": N_("district"),
    "prefecture": N_("prefecture"),
}


def _environment(language: str) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,  # every value escaped
        extensions=["jinja2.ext.i18n"],
    )
    env.install_gettext_translations(translations(language), newstyle=True)
    return env


#: How the report names its versions in other languages (links between sibling files).
SIBLING = "{version}.{lang}.html"


def render_profile(
    folder: Path,
    language: str | None = None,
    previous: Path | None = None,
    sibling: str = SIBLING,
    annex: dict[str, str] | None = None,
    chart_cache: Path | None = None,
) -> str:
    """The profile of a snapshot in `language` (default: the country's), compared with the
    `previous` snapshot for the summary; `sibling` names the same profile in another language
    ({version}, {lang}, {country}). With `annex` (the file names of the sub-national annex,
    `csv` and `xlsx`), the print edition: page numbers, a running header, and the tables by
    region and province left to the annex. Drawn charts are kept in `chart_cache`."""
    builder = ProfileBuilder(folder, language, previous, chart_cache)
    return render_builder(builder, sibling, annex)


def render_builder(
    builder: ProfileBuilder,
    sibling: str = SIBLING,
    annex: dict[str, str] | None = None,
    context: dict | None = None,
) -> str:
    """The page of a profile builder (from its `context`, computed once for the screen and
    the print edition)."""
    context = context if context is not None else builder.context()
    template = _environment(builder.language).get_template("profile.html.j2")
    return template.render(
        **context, sibling=sibling, print_edition=annex is not None, annex_files=annex or {}
    )


def write_profile(
    folder: Path,
    output: Path,
    language: str | None = None,
    previous: Path | None = None,
    sibling: str = SIBLING,
    chart_cache: Path | None = None,
) -> Path:
    page = render_profile(folder, language, previous, sibling, chart_cache=chart_cache)
    return write_atomically(output, page)


#: beside a country's reports: the snapshot, previous edition and configuration they show
BUILT_FROM = ".built-from.json"


def reports_built_from(folder: Path) -> dict | None:
    """What the reports in `folder` were last built from, or None."""
    try:
        return json.loads((Path(folder) / BUILT_FROM).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def record_reports_built_from(folder: Path, built_from: dict) -> None:
    write_atomically(Path(folder) / BUILT_FROM, json.dumps(built_from))
