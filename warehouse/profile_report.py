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
from sources.atomic import write_atomically
from sources.geography import admin_areas, areas
from warehouse.snapshots import INDICATORS_FILE, MANIFEST_FILE

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
        mask &= frame[column] == code
    if "preferred" in frame:
        mask &= frame["preferred"].fillna(True).astype(bool)
    return frame[mask]


def _yearly(frame: pd.DataFrame) -> pd.DataFrame:
    return frame[frame["time_period"].str.fullmatch(r"\d{4}")]


class ProfileBuilder:
    """Everything the template shows, from one snapshot's indicators and manifest."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.manifest = json.loads((folder / MANIFEST_FILE).read_text(encoding="utf-8"))
        self.country = self.manifest["profile"]
        self.frame = pd.read_parquet(folder / INDICATORS_FILE)
        self.catalogue = {i.id: i for i in catalogue()}
        names = dict(zip(areas()["code"], areas()["name"], strict=True))
        admin = admin_areas().sort_values("valid_to", na_position="last")
        self.levels = dict(zip(admin["code"], admin["level"], strict=True))
        names.update(dict(zip(admin["code"], admin["name"], strict=True)))
        self.names = names
        self.charts: list[dict] = []

    def name(self, code: str) -> str:
        return self.names.get(code, code)

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
                    "value": fmt(last["obs_value"], last["unit_measure"]),
                    "unit": UNITS.get(last["unit_measure"], last["unit_measure"]),
                    "period": last["time_period"],
                    "sources": _sources(group.tail(1)),
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
            charts.append(self._chart("bar", title, group.unit_measure.iloc[0], points, group))
        return charts

    def by_migrant_status(self, indicator: Indicator) -> list[dict]:
        rows = self.rows(indicator.id)
        rows = rows[
            (rows["ref_area"] == self.country)
            & rows["migrant_status"].isin(["MS_MIGRANT", "MS_NOMIGRANT"])
            & (rows["sex"] == "_T")
            & (rows["age"] == "_T")
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
            "held_back": self.manifest.get("validation", {}).get("held_back", []),
            "charts_json": script_safe_json(self.charts),
            "chart_count": len(self.charts),
        }


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
