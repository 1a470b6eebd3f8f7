"""Every profile page of the refresh, in every language, read in a real browser: every number it
shows is the snapshot's value with every flag the value carries, no chart's text overlaps other
text or leaves its drawing, and no table cell splits a word, on screen and in print."""

from __future__ import annotations

import html
import re
import subprocess
from decimal import Decimal
from pathlib import Path

import pandas as pd
import pycountry
import pytest
from babel.numbers import NumberFormatError, parse_decimal

from indicators.catalogue import catalogue
from indicators.flags import OBS_STATUS_LABELS
from publish.snapshots import list_snapshots
from sources.i18n import _, babel_locale
from sources.specs import bundled_specs
from tests.browser import CHART_TEXT_PROBLEMS, SHOWN_VALUES, SPLIT_WORDS, browser, evaluate

COMPUTED = "computed: the sum of the reported values by {what}"
NUMBER = re.compile(r"-?\d[\d\s\u00a0\u202f.,'’]*")


def profile_pages(built) -> list[tuple[str, str, Path, Path]]:
    """(country, language, page, snapshot) for every page the refresh wrote."""
    pages = []
    for country_dir in sorted((built.snapshots.parent / "reports" / "profile").iterdir()):
        snapshot = Path(list_snapshots(built.snapshots, country_dir.name)[-1]["path"])
        for page in sorted(country_dir.glob(f"{snapshot.name}.*.html")):
            pages.append((country_dir.name, page.name.split(".")[-2], page, snapshot))
    return pages


@pytest.fixture(scope="module")
def pages(built):
    found = profile_pages(built)
    assert {(c, lang) for c, lang, *_ in found} >= {
        (c, lang) for c in ("GEO", "MAR", "MDA", "PHL") for lang in ("en", "fr", "ar", "ro")
    }
    return found


@pytest.fixture(scope="module")
def chromium():
    with browser() as opened:
        yield opened


def _number(text: str, language: str, country: str) -> tuple[Decimal, int] | None:
    """The first number of `text` as the page's locale writes it, and its decimals."""
    found = NUMBER.search(text)
    if not found:
        return None
    written = found.group(0).strip(" \u00a0\u202f.,'’")
    locale = babel_locale(language, pycountry.countries.get(alpha_3=country).alpha_2)
    try:
        value = parse_decimal(written, locale=locale, strict=False)
    except NumberFormatError:
        return None
    decimal = locale.number_symbols["latn"]["decimal"]
    decimals = len(written.rsplit(decimal, 1)[1]) if decimal in written else 0
    return value, decimals


def test_every_number_on_every_page_is_the_snapshots_value_with_its_flags(pages, chromium):
    mismatches, checked = [], 0
    for country, language, page, snapshot in pages:
        values = pd.read_parquet(snapshot / "indicators.parquet")
        values = values[values["preferred"].fillna(True).astype(bool)]
        by_key = {row["value_key"]: row for row in values.to_dict(orient="records")}
        confidential = _("confidential", language=language)
        no_value = _("no value", language=language)
        for key, scale, shown, context in evaluate(chromium, page, SHOWN_VALUES):
            row = by_key.get(key)
            where = f"{page.name} {key!r} {shown!r}"
            if row is None:
                mismatches.append(f"{where}: no such value in the snapshot")
                continue
            checked += 1
            if row["conf_status"] == "C":
                if shown != confidential:
                    mismatches.append(f"{where}: confidential in the snapshot")
                continue
            if pd.isna(row["obs_value"]):
                if shown != no_value:
                    mismatches.append(f"{where}: no value in the snapshot")
                continue
            parsed = _number(shown, language, country)
            if parsed is None:
                mismatches.append(f"{where}: no number, snapshot {row['obs_value']}")
                continue
            number, decimals = parsed
            tolerance = 0.5 * 10 ** (scale - decimals) + 1e-9 * abs(row["obs_value"])
            if abs(float(number) * 10**scale - row["obs_value"]) > tolerance:
                mismatches.append(f"{where}: snapshot {row['obs_value']}")
            label = OBS_STATUS_LABELS.get(row["obs_status"] or "A")
            if label and _(label, language=language) not in context:
                mismatches.append(f"{where}: flag {row['obs_status']} not shown beside it")
            if row.get("synthetic") and _("synthetic data", language=language) not in context:
                mismatches.append(f"{where}: not marked synthetic")
            if isinstance(row.get("computed"), str) and row["computed"]:
                note = _(COMPUTED, language=language, what="").split()[0]
                if note not in context:
                    mismatches.append(f"{where}: not marked computed")
    assert checked > 2000
    assert mismatches == [], f"{len(mismatches)} mismatches, e.g. {mismatches[:10]}"


def test_no_chart_text_overlaps_or_leaves_its_drawing(pages, chromium):
    problems, charts = [], 0
    for _country, _language, page, _snapshot in pages:
        found = evaluate(chromium, page, CHART_TEXT_PROBLEMS)
        charts += found["charts"]
        problems += [(page.name, *p) for p in found["problems"]]
    assert charts > 100
    assert problems == [], problems[:20]


@pytest.mark.parametrize(("width", "media"), [(1280, "screen"), (718, "print")])
def test_no_table_cell_splits_a_word(pages, chromium, width, media):
    """At 1280 px on screen and at the width of an A4 page's text in print."""
    split, cells = [], 0
    for _country, _language, page, _snapshot in pages:
        found = evaluate(chromium, page, SPLIT_WORDS, width=width, media=media)
        cells += found["cells"]
        split += [(page.name, *s) for s in found["split"]]
    assert cells > 5000
    assert split == [], f"{len(split)} split words, e.g. {split[:15]}"


BIDI_MARKS = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069]")
TOC_LINE = re.compile(r"^(?P<title>.*?)\s*(?:\.{3,}\s*(?P<a>\d+)|(?P<b>\d+)\s*\.{3,})\s*$")


def pdf_pages(pdf: Path) -> list[str]:
    """The text of each page, as `pdftotext` (poppler-utils) reads it, without bidi marks."""
    info = subprocess.run(["pdfinfo", str(pdf)], capture_output=True, text=True, check=True)
    count = int(re.search(r"^Pages:\s+(\d+)", info.stdout, re.M)[1])
    pages = []
    for number in range(1, count + 1):
        done = subprocess.run(
            ["pdftotext", "-f", str(number), "-l", str(number), "-enc", "UTF-8", str(pdf), "-"],
            capture_output=True,
            text=True,
            check=True,
        )
        pages.append(BIDI_MARKS.sub("", done.stdout))
    return pages


def _flat(text: str) -> str:
    return " ".join(text.split())


def _found(title: str, text: str, language: str) -> bool:
    """Whether `title` is printed in `text` (pdftotext's reading). Arabic lines come back with
    their punctuation moved and lam-alef ligatures split, so there the words are compared
    without those letters, and four in five must be found."""
    if language != "ar":
        return _flat(title) in _flat(text)

    def words(text: str) -> list[str]:  # without alef and lam, which ligatures scramble
        return [w for w in re.findall(r"\w+", re.sub("[اأإآل]", "", text)) if len(w) >= 2]

    words, found = words(title), set(words(text))
    return not words or sum(w in found for w in words) >= 0.8 * len(words)


@pytest.fixture(scope="module")
def printed(pages):
    """Each page's print edition beside it, read back page by page."""
    found = {}
    for country, language, page, _snapshot in pages:
        pdf = page.with_suffix(".pdf")
        assert pdf.is_file(), f"no print edition beside {page.name}"
        found[(country, language)] = (pdf, pdf_pages(pdf))
    return found


def test_every_print_edition_is_at_most_40_pages_with_its_annex(printed):
    for (country, language), (pdf, texts) in printed.items():
        assert 10 <= len(texts) <= 40, (country, language, len(texts))
        annex = pdf.with_name(pdf.name.replace(".pdf", ".subnational.xlsx"))
        if country in ("MAR", "MDA"):  # census by region and province
            assert annex.is_file(), annex
            assert annex.name in _flat("".join(texts)), f"{pdf.name} does not name {annex.name}"
        running = _flat(texts[1])
        assert pdf.name.split(".")[0] in running  # the edition in the running header
        assert re.search(rf"\b2\s*/\s*{len(texts)}\b|\b{len(texts)}\s*/\s*2\b", running)


def test_the_table_of_contents_points_at_its_pages(printed):
    for (country, language), (_pdf, texts) in printed.items():
        entries = []
        for line in texts[0].splitlines():
            found = TOC_LINE.match(line.strip())
            if found and found["title"]:
                entries.append((found["title"].strip(" ."), int(found["a"] or found["b"])))
        assert len(entries) >= 9, (country, language, entries)
        for title, number in entries:
            assert _found(title, texts[number - 1], language), (country, language, title, number)


def test_every_chart_is_in_the_print_edition_in_its_language(printed, pages):
    english = {" ".join(i.definition.split())[:60] for i in catalogue() if len(i.definition) > 60}
    for country, language, page, _snapshot in pages:
        _pdf, texts = printed[(country, language)]
        text = _flat("".join(texts))
        captions, left_to_annex = [], []
        for figure in page.read_text().split("<figure ")[1:]:
            caption = re.search(r'<figcaption id="chart-\d+-caption">([^<]+)', figure)
            # a second series by region is printed in the annex beside the PDF, not drawn
            tag = figure.split(">", 1)[0]
            (left_to_annex if 'data-print="annex"' in tag else captions).append(caption[1])
        assert len(captions) >= 10
        missing = [c for c in captions if not _found(html.unescape(c), text, language)]
        assert missing == [], (page.name, missing[:5])
        if left_to_annex:
            assert _pdf.with_name(_pdf.name.replace(".pdf", ".subnational.xlsx")).is_file()
        if language != "en":
            found = [s for s in english if s in text]
            assert found == [], (page.name, found[:3])


CODE = re.compile(r"(?<![\w.\-/])(?:_[TOUZ]|[A-Z][A-Z0-9]*(?:_[A-Z0-9]+)+)(?![\w\-/])")
FILE_NAME = re.compile(r"[^\s<>()]+\.(?:csv|xlsx?|parquet|json|zip|yaml|txt|sav|dta|pdf)\b", re.I)


def page_words(page: Path) -> str:
    """What a reader of the page reads: its text, chart labels included, without markup,
    scripts, styles or file names (a file keeps the name it was sent with)."""
    text = page.read_text(encoding="utf-8")
    text = re.sub(r"<(script|style)\b.*?</\1>", " ", text, flags=re.S)
    text = html.unescape(re.sub(r"<[^>]+>", " ", text))
    return _flat(FILE_NAME.sub(" ", text))


def _english_sentences() -> set[str]:
    """Sentences of the English catalogue and of the English messages, long enough to be
    recognised, that have a translation of their own."""
    from sources.message_catalogs import extract_messages

    found = set()
    for indicator in catalogue():
        for field in ("definition", "numerator", "denominator"):
            text = _flat(getattr(indicator, field) or "")
            if len(text) > 40:
                found.add(text[:40])
    for message in extract_messages():
        words = re.sub(r"[{%].*?[})]s?", "", str(message.id))
        if message.id and len(words.split()) >= 6 and "[" not in words:
            found.add(_flat(words.split(".")[0])[:40])
    return {s for s in found if len(s) >= 30}


def test_readers_of_french_arabic_and_romanian_read_no_english_and_no_codes(pages):
    # dataset and source ids (mar_consular_registrations, wb_bilateral_migration)
    sources = {s for s in [*bundled_specs(), *(x for i in catalogue() for x in i.sources)]}
    sources = {s for s in sources if "_" in s}
    english = _english_sentences()
    problems = []
    for _country, language, page, _snapshot in pages:
        if language == "en":
            continue
        text = page_words(page)
        for code in sorted(set(CODE.findall(text))):
            problems.append((page.name, "code", code))
        problems += [(page.name, "source id", s) for s in sources if re.search(rf"\b{s}\b", text)]
        problems += [(page.name, "English", s) for s in english if s in text]
    assert problems == [], f"{len(problems)} found, e.g. {problems[:20]}"
