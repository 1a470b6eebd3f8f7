"""Charts drawn once are kept between refreshes (publish/chart_cache.py): the same chart comes
back from the folder, a chart that would be drawn differently (other words, other number style)
is drawn anew, drawings unused for a month go, and a profile built with kept drawings is the
profile built without them, byte for byte."""

from __future__ import annotations

import os
import time
from pathlib import Path

from publish.chart_cache import CACHE_FOLDER, KEPT_DAYS, chart_key, prune
from publish.charts import ChartWords, NumberStyle, chart_svg
from publish.report import ProfileBuilder, render_builder
from publish.snapshot_index import list_snapshots

WORDS = ChartWords("value", "flagged", "confidential", "no value")
FRENCH = NumberStyle(decimal=",", group="\u202f", rtl=False)
ENGLISH = NumberStyle(decimal=".", group=",", rtl=False)
POINTS = [
    {"label": "2019", "value": 12345.5, "state": "value"},
    {"label": "2020", "value": 23456.25, "state": "value"},
    {"label": "2021", "value": None, "state": "missing"},
]


def _kept(folder: Path) -> list[Path]:
    return sorted(folder.glob("*/*.svg"))


def test_a_chart_is_drawn_once_and_read_back_after(tmp_path):
    first = chart_svg("line", POINTS, "persons", 1, WORDS, FRENCH, tmp_path)
    (kept,) = _kept(tmp_path)
    assert kept.read_text(encoding="utf-8") == first and "20\u202f000,0" in first
    # what is kept is what is shown: a kept drawing is read, not drawn again
    kept.write_text(first.replace("20\u202f000,0", "kept drawing"), encoding="utf-8")
    again = chart_svg("line", POINTS, "persons", 1, WORDS, FRENCH, tmp_path)
    assert "kept drawing" in again
    assert again == chart_svg("line", POINTS, "persons", 1, WORDS, FRENCH, tmp_path)


def test_a_chart_drawn_differently_is_not_taken_from_the_cache(tmp_path):
    french = chart_svg("line", POINTS, "persons", 1, WORDS, FRENCH, tmp_path)
    english = chart_svg("line", POINTS, "persons", 1, WORDS, ENGLISH, tmp_path)
    other_words = ChartWords("valeur", "signalée", "confidentielle", "aucune valeur")
    chart_svg("line", POINTS, "persons", 1, other_words, FRENCH, tmp_path)
    chart_svg("bar", POINTS, "persons", 1, WORDS, FRENCH, tmp_path)
    assert "20,000.0" in english and "20,000.0" not in french
    assert len(_kept(tmp_path)) == 4
    assert chart_key({"a": 1}) != chart_key({"a": 2})


def test_a_folder_that_cannot_be_written_only_means_drawing_again(tmp_path):
    blocked = tmp_path / "file"
    blocked.write_text("not a folder", encoding="utf-8")
    svg = chart_svg("bar", POINTS, "persons", 0, WORDS, ENGLISH, blocked)
    assert svg.startswith("<svg ") and "20,000" in svg


def test_drawings_unused_for_a_month_are_removed(tmp_path):
    chart_svg("line", POINTS, "persons", 1, WORDS, FRENCH, tmp_path)
    chart_svg("line", POINTS, "persons", 1, WORDS, ENGLISH, tmp_path)
    old, recent = _kept(tmp_path)
    month_ago = time.time() - (KEPT_DAYS + 1) * 86400
    os.utime(old, (month_ago, month_ago))
    assert prune(tmp_path) == 1
    assert _kept(tmp_path) == [recent]


def test_the_refresh_keeps_its_charts_and_a_page_built_from_them_is_the_same(built, tmp_path):
    cache = built.snapshots.parent / "reports" / CACHE_FOLDER
    assert len(_kept(cache)) > 50
    snapshot = Path(list_snapshots(built.snapshots, "GEO")[-1]["path"])
    kept = render_builder(ProfileBuilder(snapshot, "fr", None, cache))
    drawn = render_builder(ProfileBuilder(snapshot, "fr", None, tmp_path / "empty"))
    assert kept == drawn and "<svg " in kept
