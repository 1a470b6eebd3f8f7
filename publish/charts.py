"""The profile's charts as data: a Vega-Lite specification (built with Altair) for each chart,
rendered to static SVG with vl-convert when the report is built, so neither the page nor its
print edition needs a script. Numbers follow the reader's language; Arabic charts are mirrored
(axis on the right, bars growing leftwards, years from right to left).

A point is a dict: `label` (a year or a category, already in words), `value` (float or None),
`state` ("value", "flagged", "confidential", "missing"). A confidential or missing category keeps
its row with no bar and the word for why; it is never drawn as 0."""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import altair as alt
import vl_convert

from publish.chart_cache import chart_key, kept_or_drawn

BLUE = "#1f4e79"
PALE = "#8fb0cf"
GREY = "#5b6670"
FONT = "DejaVu Sans"  # in every profile language's script; installed by `make setup`
FONT_DIRECTORIES = ("/usr/share/fonts/truetype/dejavu", "/usr/local/share/fonts")
WIDTH = 520
BAR_STEP = 22
LABEL_LIMIT = 300


@dataclass(frozen=True)
class ChartWords:
    """What a chart says, in the reader's language."""

    value: str  # legend: a value as reported
    flagged: str  # legend: a value carrying a flag (shown in the data table)
    confidential: str
    missing: str


@dataclass(frozen=True)
class NumberStyle:
    decimal: str
    group: str
    rtl: bool

    def locale(self) -> dict:
        """A d3-format locale: the reader's separators, no currency symbol."""
        return {
            "decimal": self.decimal,
            "thousands": self.group,
            "grouping": [3],
            "currency": ["", ""],
        }


def _config(chart: alt.TopLevelMixin) -> alt.TopLevelMixin:
    return (
        chart.configure(font=FONT)
        .configure_view(stroke=None)
        .configure_axis(
            labelFontSize=11, titleFontSize=11, labelLimit=LABEL_LIMIT, titleLimit=WIDTH
        )
        .configure_legend(labelFontSize=11, labelLimit=WIDTH, symbolSize=60)
    )


def _legend_states(present: set[str], words: ChartWords) -> tuple[str, ...]:
    """The kinds of value the chart draws (as reported, with a flag), in legend order."""
    kinds = [(words.value, "value"), (words.flagged, "flagged")]
    return tuple(k[0] for k in kinds if k[1] in present) or (words.value,)


def _colours(states: tuple[str, ...], words: ChartWords) -> list[str]:
    return [BLUE if s == words.value else PALE for s in states]


def _legend(states: tuple[str, ...]) -> alt.Legend | None:
    return (
        alt.Legend(title=None, orient="bottom", direction="horizontal") if len(states) > 1 else None
    )


POINTS = alt.NamedData(name="points")  # the data is filled in per chart (see `_filled`)


@lru_cache(maxsize=512)
def _line_template(
    unit: str, decimals: int, words: ChartWords, rtl: bool, states: tuple[str, ...]
) -> dict:
    x = alt.X(
        "year:Q",
        title=None,
        scale=alt.Scale(zero=False, nice=False, reverse=rtl),
        axis=alt.Axis(format="d", tickMinStep=1, labelOverlap="greedy", tickCount=8),
    )
    y = alt.Y(
        "value:Q",
        title=unit,
        axis=alt.Axis(format=f",.{decimals}f", orient="right" if rtl else "left", tickCount=6),
    )
    base = alt.Chart(POINTS).encode(x=x, y=y)
    line = base.mark_line(color=BLUE, strokeWidth=2)
    marks = base.mark_point(size=45, filled=True, opacity=1).encode(
        color=alt.Color(
            "legend:N",
            scale=alt.Scale(domain=list(states), range=_colours(states, words)),
            legend=_legend(states),
        ),
        shape=alt.Shape(
            "legend:N",
            scale=alt.Scale(
                domain=list(states),
                range=["circle" if s == words.value else "triangle-up" for s in states],
            ),
            legend=None,
        ),
    )
    return _config((line + marks).properties(width=WIDTH, height=220)).to_dict(validate=False)


@lru_cache(maxsize=512)
def _bar_template(
    unit: str, decimals: int, words: ChartWords, rtl: bool, states: tuple[str, ...], why: bool
) -> dict:
    y = alt.Y(
        "label:N",
        title=None,
        axis=alt.Axis(orient="right" if rtl else "left", labelLimit=LABEL_LIMIT),
    )
    x = alt.X(
        "value:Q",
        title=unit,
        scale=alt.Scale(reverse=rtl, zero=True),
        axis=alt.Axis(format=f",.{decimals}f", labelOverlap="greedy", tickCount=5),
    )
    base = alt.Chart(POINTS).encode(y=y)
    bars = (
        base.transform_filter("isValid(datum.value)")
        .mark_bar(height={"band": 0.75})
        .encode(
            x=x,
            color=alt.Color(
                "legend:N",
                scale=alt.Scale(domain=list(states), range=_colours(states, words)),
                legend=_legend(states),
            ),
        )
    )
    layers = [bars]
    if why:
        layers.append(
            base.transform_filter("isValid(datum.why)")
            .mark_text(
                align="right" if rtl else "left",
                dx=-4 if rtl else 4,
                color=GREY,
                fontStyle="italic",
            )
            .encode(x=alt.datum(0), text="why:N")
        )
    chart = alt.layer(*layers).properties(width=WIDTH, height=alt.Step(BAR_STEP))
    return _config(chart).to_dict(validate=False)


def _filled(template: dict, records: list[dict], order: list[str] | None = None) -> dict:
    """A chart's specification: its template with the chart's values (and the order of its
    categories) in place."""
    spec = copy.deepcopy(template)
    spec["datasets"] = {"points": records}
    if order is not None:
        for layer in spec.get("layer", [spec]):
            if "y" in layer.get("encoding", {}):
                layer["encoding"]["y"]["sort"] = order
    return spec


def line_spec(points: list[dict], unit: str, decimals: int, words: ChartWords, rtl: bool) -> dict:
    """A time series: a line through the years with a value, one mark per value (flagged
    values drawn as triangles and named in the legend)."""
    drawn = [p for p in points if p["value"] is not None]
    states = _legend_states({p["state"] for p in drawn}, words)
    records = [
        {
            "year": int(p["label"]),
            "value": p["value"],
            "legend": words.flagged if p["state"] == "flagged" else words.value,
        }
        for p in drawn
    ]
    return _filled(_line_template(unit, decimals, words, rtl, states), records)


def bar_spec(points: list[dict], unit: str, decimals: int, words: ChartWords, rtl: bool) -> dict:
    """Categories in the order given, one bar each; a confidential or missing category keeps
    its row, with the word for why in place of a bar, and a true zero is written 0."""
    whys = {"confidential": words.confidential, "missing": words.missing}
    records = []
    for p in points:
        why = whys.get(p["state"]) or ("0" if p["value"] == 0 else None)
        legend = words.flagged if p["state"] == "flagged" else words.value
        records.append(
            {"label": str(p["label"]), "value": p["value"], "legend": legend, "why": why}
        )
    states = _legend_states({p["state"] for p in points if p["value"] is not None}, words)
    has_why = any(r["why"] is not None for r in records)
    template = _bar_template(unit, decimals, words, rtl, states, has_why)
    return _filled(template, records, [r["label"] for r in records])


@lru_cache(maxsize=1)
def _fonts() -> None:
    """Let vl-convert measure labels with the font the page draws them in, so the layout it
    computes (label overlap, axis offsets) holds in the browser and in print."""
    for folder in FONT_DIRECTORIES:
        if Path(folder).is_dir():
            vl_convert.register_font_directory(folder)


def chart_svg(
    kind: str,
    points: list[dict],
    unit: str,
    decimals: int,
    words: ChartWords,
    numbers: NumberStyle,
    cache: Path | None = None,
) -> str:
    """The chart as an SVG document (vector, no script), numbers in the reader's style; the
    drawing kept in `cache` when the same chart was drawn before (publish/chart_cache.py)."""
    shown = [kind, points, unit, decimals, asdict(words), asdict(numbers)]
    return kept_or_drawn(
        cache, chart_key(shown), lambda: _drawn(kind, points, unit, decimals, words, numbers)
    )


def _drawn(
    kind: str, points: list[dict], unit: str, decimals: int, words: ChartWords, numbers: NumberStyle
) -> str:
    build = line_spec if kind == "line" else bar_spec
    spec = build(points, unit, decimals, words, numbers.rtl)
    _fonts()
    svg = vl_convert.vegalite_to_svg(spec, format_locale=numbers.locale())
    # the figure around it names the chart and its data table follows: screen readers skip it
    # Vega places text for a left-to-right drawing: kept so inside a right-to-left page
    # (Arabic labels are still shaped and ordered right to left within themselves)
    return svg.replace(
        "<svg ",
        '<svg aria-hidden="true" focusable="false" direction="ltr" style="direction: ltr" ',
        1,
    )
