"""The Extended Migration Profile of one country as one self-contained HTML file, built from a
published snapshot: key data, Part A (trends), Part B (impact), Part D (data gaps), with charts
drawn in the browser from data embedded in the page (no network needed) and the sources under
every table and chart."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pandas as pd
import pycountry
from jinja2 import Environment, FileSystemLoader

from indicators.catalogue import Indicator, catalogue
from indicators.census import age_as_total
from indicators.flags import OBS_STATUS_LABELS
from sources.atomic import write_atomically
from sources.geography import admin_areas, areas
from warehouse.snapshots import INDICATORS_FILE, MANIFEST_FILE, OVERLAPS_FILE

TEMPLATES = Path(__file__).parent / "templates"
PARTS = {
    "A": (
        "Part A. Migration trends",
        [
            "Immigration",
            "Emigration and diaspora",
            "Return",
            "Forced migration",
            "Internal migration",
        ],
    ),
    "B": ("Part B. Impact of migration", ["Remittances", "Labour market", "Education"]),
    "Annex": ("Annex. SDG migration indicators", ["SDG migration indicators"]),
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
TOTALS = {"sex": "_T", "age": "_T", "migrant_status": "_T", "breakdown": "_T"}
UNITS = {
    "PS": "persons",
    "PT": "%",
    "USD": "US dollars",
    "USD_PER_PERSON": "US dollars per person",
    "PER_100000": "per 100,000",
    "PER_1000": "per 1,000",
}


def fmt(value: float | None, unit: str | None) -> str:
    """A value as a reader expects it: 98,574 persons, 2.6 %, USD 6,904 million."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if unit in ("USD",) and abs(value) >= 1e6:
        return f"USD {value / 1e6:,.0f} million"
    if unit in ("PT", "PER_100000", "PER_1000", "USD_PER_PERSON"):
        return f"{value:,.1f}"
    return f"{value:,.0f}"


def common_name(code: str, default: str) -> str:
    """The name readers use: Moldova rather than "Moldova, Republic of"."""
    country = pycountry.countries.get(alpha_3=code)
    return getattr(country, "common_name", None) or default


def _sources(rows: pd.DataFrame) -> list[str]:
    vintages = sorted({v for vs in rows["source_vintages"] for v in vs})
    return vintages or sorted({s for ss in rows["source_ids"] for s in ss})


def _totals(frame: pd.DataFrame) -> pd.DataFrame:
    mask = pd.Series(True, index=frame.index)
    for column, code in TOTALS.items():
        values = age_as_total(frame[column]) if column == "age" else frame[column]
        mask &= values == code
    if "preferred" in frame:
        mask &= frame["preferred"].fillna(True).astype(bool)
    return frame[mask]


#: Units whose values add up across a breakdown (counts and amounts, not shares or rates).
ADDITIVE_UNITS = {"PS", "USD", "NUMBER"}
#: The breakdowns a total may be computed from, in the order tried.
SUMMED_OVER = ("sex", "age", "breakdown", "counterpart_area")
CODE_LABELS = {
    "_O": "other countries",
    "_U": "not reported",
    "_T": "total",
    "M": "men",
    "F": "women",
}


def computed_totals(frame: pd.DataFrame) -> pd.DataFrame:
    """Totals for series that loaded without an all-totals row (a file by sex only, by
    destination and sex): the sum of one reported cross-classification, where the unit adds
    up. Of several (a series sent by sex in one file and by age in another), the one with the
    fewest breakdowns is summed. The rows are marked `computed` with what was summed, never
    passed off as reported."""
    empty = frame.iloc[0:0].assign(computed=pd.Series(dtype=str))
    rows = frame[frame["preferred"].fillna(True).astype(bool)] if "preferred" in frame else frame
    rows = rows[rows["unit_measure"].isin(ADDITIVE_UNITS) & rows["obs_value"].notna()]
    if rows.empty:
        return empty
    dims = list(SUMMED_OVER) + ["migrant_status"]
    pattern = rows[dims].ne("_T")
    rows = rows.assign(
        pattern=pattern.apply(lambda r: "+".join(d for d in dims if r[d]), axis=1),
        width=pattern.sum(axis=1),
    )
    group = ["indicator_id", "series", "ref_area", "time_period", "unit_measure"]
    reported = set(map(tuple, rows.loc[rows["width"] == 0, group].to_numpy().tolist()))
    candidates = rows[rows["width"] > 0]
    if candidates.empty:
        return empty
    sums = candidates.groupby([*group, "pattern", "width"], as_index=False).agg(
        obs_value=("obs_value", "sum"),
        source_ids=("source_ids", lambda s: sorted({x for ids in s for x in ids})),
        source_vintages=("source_vintages", lambda s: sorted({x for v in s for x in v})),
        batch_ids=("batch_ids", lambda s: sorted({x for ids in s for x in ids})),
    )
    sums = sums.sort_values(["width", "pattern"]).drop_duplicates(group, keep="first")
    sums = sums[[tuple(k) not in reported for k in sums[group].to_numpy().tolist()]]
    if sums.empty:
        return empty
    return (
        sums.drop(columns=["width"])
        .rename(columns={"pattern": "computed"})
        .assign(
            counterpart_area="_T",
            sex="_T",
            age="_T",
            migrant_status="_T",
            breakdown="_T",
            unit_mult=0,
            obs_status="A",
            conf_status="F",
            preferred=True,
        )
    )


def _yearly(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["time_period"].str.fullmatch(r"\d{4}")]


class ProfileBuilder:
    """Everything the template shows, from one snapshot's indicators and manifest."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
        self.country = self.manifest["profile"]
        reported = pd.read_parquet(folder / INDICATORS_FILE).assign(computed=None)
        self.frame = pd.concat([reported, computed_totals(reported)], ignore_index=True)
        self.catalogue = {i.id: i for i in catalogue()}
        self.labels = {**spec_labels(), **CODE_LABELS}
        names = dict(zip(areas()["code"], areas()["name"], strict=True))
        admin = admin_areas().sort_values("valid_to", na_position="last")
        self.levels = dict(zip(admin["code"], admin["level"], strict=True))
        names.update(dict(zip(admin["code"], admin["name"], strict=True)))
        self.names = names
        self.charts: list[dict] = []

    def name(self, code: str) -> str:
        return self.names.get(code) or self.labels.get(code) or code

    def label(self, dimension: str, code: str) -> str:
        """A human label for a code: areas by name, ages as ranges, the rest as the sending
        office wrote them (its spec's labels)."""
        if dimension in ("ref_area", "counterpart_area"):
            return self.name(code)
        if dimension == "age":
            return age_label(code)
        return self.labels.get(code) or code.replace("_", " ").lower()

    def rows(self, indicator_id: str) -> pd.DataFrame:
        return self.frame[self.frame["indicator_id"] == indicator_id]

    def national(self, indicator_id: str) -> pd.DataFrame:
        rows = _totals(self.rows(indicator_id))
        return rows[(rows["ref_area"] == self.country) & (rows["counterpart_area"] == "_T")]

    def latest(self, indicator_id: str) -> list[dict]:
        """Latest national total of each series of the indicator."""
        out = []
        rows = self.national(indicator_id).dropna(subset=["obs_value"])
        for series, group in rows.groupby("series"):
            last = group.sort_values("time_period").iloc[-1]
            out.append(
                {
                    "series": series,
                    "flag": _flag(last),
                    "value": fmt(last["obs_value"], last["unit_measure"]),
                    "unit": UNITS.get(last["unit_measure"], last["unit_measure"]),
                    "period": last["time_period"],
                    "sources": _sources(group.tail(1)),
                    "computed": _computed_note(last.get("computed")),
                }
            )
        return out

    def _chart(self, kind: str, title: str, unit: str, points: list, rows: pd.DataFrame) -> dict:
        chart = {
            "id": f"chart-{len(self.charts) + 1}",
            "kind": kind,
            "title": title,
            "unit": UNITS.get(unit, unit),
            "points": points,
            "sources": _sources(rows),
        }
        self.charts.append(chart)
        return chart

    def time_series(self, indicator: Indicator) -> list[dict]:
        charts = []
        rows = _yearly(self.national(indicator.id)).dropna(subset=["obs_value"])
        for series, group in rows.groupby("series"):
            group = group.sort_values("time_period")
            if len(group) < 3:
                continue
            points = [
                [int(p), float(v)] for p, v in zip(group.time_period, group.obs_value, strict=True)
            ]
            title = f"{indicator.name} ({series})" if rows.series.nunique() > 1 else indicator.name
            charts.append(self._chart("line", title, group.unit_measure.iloc[0], points, group))
        return charts

    def top_counterparts(self, indicator: Indicator, top: int = 10) -> list[dict]:
        rows = _totals(self.rows(indicator.id))
        rows = rows[(rows["counterpart_area"] != "_T") & rows["obs_value"].notna()]
        rows = rows[rows["ref_area"] == self.country]
        rows = _yearly(rows)
        if rows.empty:
            return []
        charts = []
        for _series, group in rows.groupby("series"):
            latest = group[group["time_period"] == group["time_period"].max()]
            latest = latest.nlargest(top, "obs_value")
            if len(latest) < 2:
                continue
            points = [
                [self.name(c), float(v)]
                for c, v in zip(latest.counterpart_area, latest.obs_value, strict=True)
            ]
            year = latest.time_period.iloc[0]
            title = f"{indicator.name}: top {len(points)} partner countries, {year}"
            charts.append(self._chart("bar", title, latest.unit_measure.iloc[0], points, latest))
            break  # one chart per indicator
        return charts

    def regions(self, indicator: Indicator) -> list[dict]:
        rows = _totals(self.rows(indicator.id))
        rows = rows[rows["ref_area"].map(lambda a: self.levels.get(a) in FIRST_TIER).astype(bool)]
        rows = rows[rows["counterpart_area"] == "_T"].dropna(subset=["obs_value"])
        charts = []
        for series in indicator.series[:2] or sorted(set(rows.series))[:1]:
            group = rows[rows["series"] == series]
            if len(group) < 2:
                continue
            group = group[group["time_period"] == group["time_period"].max()]
            group = group.sort_values("obs_value", ascending=False)
            points = [
                [self.name(a), float(v)]
                for a, v in zip(group.ref_area, group.obs_value, strict=True)
            ]
            title = f"{indicator.name} ({series}) by region, {group.time_period.iloc[0]}"
            chart = self._chart("bar", title, group.unit_measure.iloc[0], points, group)
            chart["note"] = self._hidden_note(indicator.id, series, group.time_period.iloc[0])
            charts.append(chart)
        return charts

    def _hidden_note(self, indicator_id: str, series: str, period: str) -> str | None:
        """What a regional chart leaves out, by reason: confidential and cannot-exist cells are
        not zeros."""
        rows = _totals(self.rows(indicator_id))
        rows = rows[
            (rows["series"] == series)
            & (rows["time_period"] == period)
            & rows["ref_area"].map(lambda a: self.levels.get(a) in FIRST_TIER).astype(bool)
        ]
        confidential = int((rows.get("conf_status") == "C").sum()) if "conf_status" in rows else 0
        missing = int((rows.get("obs_status") == "M").sum()) if "obs_status" in rows else 0
        parts = []
        if confidential:
            parts.append(
                f"{confidential} region(s) not shown: confidential (too few census "
                "records, or protecting a cell that has)"
            )
        if missing:
            parts.append(f"{missing} region(s) with no value: the figure cannot exist")
        return "; ".join(parts) or None

    def annex(self) -> list[dict]:
        """The methodological annex: one entry per indicator, from the catalogue."""
        entries = []
        for indicator in self.catalogue.values():
            rows = self.rows(indicator.id)
            flags = sorted(
                {str(f) for f in rows.get("obs_status", pd.Series(dtype=object)).dropna()} - {"A"}
            )
            if "conf_status" in rows and (rows["conf_status"] == "C").any():
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
                    "sources": ", ".join(indicator.sources),
                    "flags": [f"{f}: {FLAG_WORDS.get(f, f)}" for f in flags],
                }
            )
        return entries

    def breakdowns(self, indicator: Indicator) -> list[dict]:
        """The latest year of each national series by sex, age and the office's own breakdown,
        with human labels."""
        rows = self.rows(indicator.id)
        if "preferred" in rows:
            rows = rows[rows["preferred"].fillna(True).astype(bool)]
        rows = _yearly(rows[(rows["ref_area"] == self.country) & rows["obs_value"].notna()])
        rows = rows[rows["counterpart_area"] == "_T"]
        charts = []
        for dimension in ("sex", "age", "breakdown"):
            others = [d for d in TOTALS if d != dimension]
            part = rows[rows[others].eq("_T").all(axis=1) & (rows[dimension] != "_T")]
            for series, group in part.groupby("series"):
                latest = group[group["time_period"] == group["time_period"].max()]
                if len(latest) < 2:
                    continue
                latest = latest.sort_values(dimension)
                points = [
                    [self.label(dimension, c), float(v)]
                    for c, v in zip(latest[dimension], latest.obs_value, strict=True)
                ]
                what = {"breakdown": "category"}.get(dimension, dimension)
                title = f"{indicator.name} ({series}) by {what}, {latest.time_period.iloc[0]}"
                charts.append(
                    self._chart("bar", title, latest.unit_measure.iloc[0], points, latest)
                )
        return charts

    def by_migrant_status(self, indicator: Indicator) -> list[dict]:
        rows = self.rows(indicator.id)
        rows = rows[
            (rows["ref_area"] == self.country)
            & rows["migrant_status"].isin(["MS_MIGRANT", "MS_NOMIGRANT"])
            & (rows["sex"] == "_T")
            & (age_as_total(rows["age"]) == "_T")
        ].dropna(subset=["obs_value"])
        if rows.empty:
            return []
        label = {"MS_MIGRANT": "foreign-born", "MS_NOMIGRANT": "native-born"}
        points = [
            [f"{s} {label[m]}", float(v)]
            for s, m, v in zip(rows.series, rows.migrant_status, rows.obs_value, strict=True)
        ]
        title = f"{indicator.name}, {rows.time_period.max()}"
        return [self._chart("bar", title, rows.unit_measure.iloc[0], points, rows)]

    def module(self, module: str) -> dict:
        entries = [i for i in self.catalogue.values() if i.module == module]
        blocks = []
        for indicator in entries:
            latest = self.latest(indicator.id)
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
                    "latest": latest,
                    "charts": charts,
                    "definition": " ".join(indicator.definition.split()),
                }
            )
        return {"name": module, "blocks": blocks}

    def gaps(self) -> list[dict]:
        """Part D: each core indicator missing or failing validation, and why."""
        validation = self.manifest.get("validation", {})
        found = [
            {
                "indicator": g["indicator_id"],
                "name": self.catalogue[g["indicator_id"]].name
                if g["indicator_id"] in self.catalogue
                else g["indicator_id"],
                "reason": g["reason"],
            }
            for g in validation.get("gaps", [])
        ]
        for check in validation.get("checks", []):
            if not check.get("success"):
                found.append(
                    {
                        "indicator": check["name"],
                        "name": check.get("description", ""),
                        "reason": f"validation {check['severity']}: "
                        f"{check.get('failure_count', 0)} failing value(s)",
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
                rows.append(
                    {
                        "indicator": self.catalogue[r.indicator_id].name
                        if r.indicator_id in self.catalogue
                        else r.indicator_id,
                        "area": self.name(r.ref_area),
                        "period": r.time_period,
                        "preferred": f"{fmt(r.preferred_value, r.unit_measure)} "
                        f"({r.preferred_source})",
                        "other": f"{fmt(r.other_value, r.unit_measure)} ({r.other_source})",
                        "difference": f"{r.relative_difference:+.1%}"
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
                    "source": ", ".join(sorted({s for ids in g.source_ids for s in ids})),
                }
                for (i, a), g in breaks.groupby(["indicator_id", "ref_area"])
            ][:top],
        }

    def context(self) -> dict:
        key_data = []
        for indicator_id in KEY_DATA:
            indicator = self.catalogue.get(indicator_id)
            for latest in self.latest(indicator_id) if indicator else []:
                key_data.append({"name": indicator.name, **latest})
        parts = [
            {"title": title, "modules": [self.module(m) for m in modules]}
            for title, modules in PARTS.values()
        ]
        return {
            "country": self.country,
            "country_name": common_name(self.country, self.name(self.country)),
            "manifest": self.manifest,
            "key_data": key_data,
            "parts": parts,
            "gaps": self.gaps(),
            "overlaps": self.overlaps(),
            "annex": self.annex(),
            "flag_words": FLAG_WORDS,
            "held_back": self.manifest.get("validation", {}).get("held_back", []),
            "charts_json": script_safe_json(self.charts),
            "chart_count": len(self.charts),
        }


#: The flags a reader meets, in words (SDMX OBS_STATUS, and CONF_STATUS C).
FLAG_WORDS = {
    **{code: label for code, label in OBS_STATUS_LABELS.items() if label},
    "C": "confidential: suppressed by disclosure control (primary: too few census records; "
    "secondary: hidden so that the primary cell cannot be worked out by subtraction)",
}


def _flag(row: pd.Series) -> str | None:
    """A value's flag for the reader, with the reason the comment gives."""
    status = row.get("obs_status")
    if not isinstance(status, str) or status == "A":
        return None
    label = OBS_STATUS_LABELS.get(status, status)
    comment = row.get("comment")
    return f"{label}: {comment}" if isinstance(comment, str) and comment else label


def _computed_note(pattern: object) -> str | None:
    if not isinstance(pattern, str) or not pattern:
        return None
    names = {
        "breakdown": "category",
        "counterpart_area": "partner country",
        "migrant_status": "migrant status",
    }
    what = " and ".join(names.get(d, d) for d in pattern.split("+"))
    return f"computed: the sum of the reported values by {what}"


def age_label(code: str) -> str:
    """SDMX age codes as readers write them: Y15T19 -> 15-19, Y_LT15 -> under 15."""
    import re

    if code == "_U":
        return "not reported"
    found = re.fullmatch(r"Y(\d+)T(\d+)", code)
    if found:
        return f"{found[1]}-{found[2]}"
    found = re.fullmatch(r"Y_LT(\d+)", code)
    if found:
        return f"under {found[1]}"
    found = re.fullmatch(r"Y_GE(\d+)", code)
    if found:
        return f"{found[1]} and over"
    return code


def spec_labels() -> dict[str, str]:
    """Codes -> the label the sending office uses for them (the first in its spec's code list),
    for codes that are not areas."""
    from sources.specs import bundled_specs

    labels: dict[str, str] = {}
    for spec in bundled_specs().values():
        for column in spec.columns.values():
            if column.dimension in ("ref_area", "counterpart_area"):
                continue
            for label, code in column.codes.items():
                labels.setdefault(code, str(label).strip())
    return labels


def script_safe_json(data: object) -> str:
    """JSON to embed in a <script> element: <, > and & as \\u escapes, so no label can close
    the element or open a comment."""
    text = json.dumps(data, ensure_ascii=False)
    return text.replace("<", "\\u003c").replace(">", "\\u003e").replace("&", "\\u0026")


def render_profile(folder: Path) -> str:
    env = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True)  # every value escaped
    return env.get_template("profile.html.j2").render(**ProfileBuilder(folder).context())


def write_profile(folder: Path, output: Path) -> Path:
    return write_atomically(output, render_profile(folder))
