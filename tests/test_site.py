"""The public site as its readers get it: built by the refresh from the published editions,
opened from file:// and from a static web server in Debian's Chromium (Playwright), checked by
axe-core, crawled for broken links, searched in French, switched between languages, and its
values compared with the snapshots read by pandas."""

from __future__ import annotations

import functools
import http.server
import json
import re
import shutil
import subprocess
import threading
import zipfile
from html import unescape
from html.parser import HTMLParser
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pandas as pd
import pytest

from publish.approvals import approve
from publish.site import build_site
from tests.browser import browser

LANGUAGES = ("en", "fr", "ar", "ro")
#: one page of each kind, from the language's root
KINDS = (
    "index.html",
    "countries/MAR.html",
    "indicators/index.html",
    "indicators/IMM_STOCK.html",
    "areas/index.html",
    "areas/MA-05.html",
    "status/reporting.html",
    "status/disaggregation.html",
    "downloads.html",
    "search.html",
)


@pytest.fixture(scope="module")
def site(built) -> Path:
    folder = built.snapshots.parent / "site"
    assert (folder / "index.html").is_file(), "the refresh builds the site"
    return folder


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # no line per request
        pass


@pytest.fixture(scope="module")
def server(site):
    """The same site behind a plain static web server on 127.0.0.1."""
    handler = functools.partial(_Quiet, directory=str(site))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()


@pytest.fixture(scope="module")
def chromium():
    with browser() as found:
        yield found


class _Links(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.ids: set[str] = set()

    def handle_starttag(self, tag, attrs):
        attrs = dict(attrs)
        if attrs.get("id"):
            self.ids.add(attrs["id"])
        for name in ("href", "src"):
            if attrs.get(name):
                self.links.append(attrs[name])


def _parsed(page: Path) -> _Links:
    parser = _Links()
    parser.feed(page.read_text(encoding="utf-8"))
    return parser


def test_every_link_of_every_page_leads_somewhere(site):
    """A crawl of every page: every relative link and script names a file of the site (and
    an anchor that exists); no link leaves the site."""
    pages = sorted(site.rglob("*.html"))
    assert len(pages) > 400
    anchors: dict[Path, set[str]] = {}
    broken = []
    for page in pages:
        for link in _parsed(page).links:
            if link.startswith(("data:", "mailto:")):
                continue
            parts = urlsplit(link)
            assert not parts.scheme and not parts.netloc, f"{page}: {link} leaves the site"
            target = (page.parent / unquote(parts.path)).resolve() if parts.path else page
            if not target.is_file() or not target.is_relative_to(site.resolve()):
                broken.append((str(page.relative_to(site)), link))
            elif parts.fragment and target.suffix == ".html":
                if target not in anchors:
                    anchors[target] = _parsed(target).ids
                if parts.fragment not in anchors[target]:
                    broken.append((str(page.relative_to(site)), link))
    assert broken == []


def test_every_page_exists_in_every_language_and_links_to_itself_in_the_others(site):
    for kind in KINDS:
        for language in LANGUAGES:
            page = site / language / kind
            assert page.is_file(), page
            html = page.read_text(encoding="utf-8")
            assert f'<html lang="{language}"' in html
            assert ('dir="rtl"' in html) == (language == "ar")
            for other in LANGUAGES:
                if other != language:
                    depth = "../" * kind.count("/")
                    assert f'href="{depth}../{other}/{kind}"' in html, (page, other)


def _console_errors(chromium, url: str) -> list[str]:
    tab = chromium.new_page()
    errors: list[str] = []
    tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    tab.on("pageerror", lambda e: errors.append(str(e)))
    try:
        tab.goto(url)
        tab.wait_for_load_state("load")
    finally:
        tab.close()
    return errors


def test_pages_load_without_console_errors_from_file_and_from_a_server(site, server, chromium):
    for language in LANGUAGES:
        for kind in KINDS:
            assert _console_errors(chromium, (site / language / kind).as_uri()) == []
    for kind in KINDS:
        assert _console_errors(chromium, f"{server}/ar/{kind}") == []


def test_the_language_switch_lands_on_the_same_page(site, chromium):
    tab = chromium.new_page()
    try:
        tab.goto((site / "en" / "indicators" / "IMM_STOCK.html").as_uri())
        tab.click('.site-languages a[lang="fr"]')
        assert tab.url.endswith("/fr/indicators/IMM_STOCK.html")
        assert tab.get_attribute("html", "lang") == "fr"
        assert "Stock de migrants internationaux" in tab.inner_text("h1")
        tab.click('.site-languages a[lang="ar"]')
        assert tab.url.endswith("/ar/indicators/IMM_STOCK.html")
        assert tab.get_attribute("html", "dir") == "rtl"
    finally:
        tab.close()


@pytest.mark.parametrize("where", ["file", "server"])
def test_a_french_word_finds_the_french_page(site, server, chromium, where):
    """Typed in the bar of a French page, "immigrés" lists the French indicator page first,
    accents or not, from file:// as from the web server."""
    start = (site / "fr" / "index.html").as_uri() if where == "file" else f"{server}/fr/index.html"
    tab = chromium.new_page()
    try:
        tab.goto(start)
        tab.fill("#site-q", "immigres")
        tab.click(".site-search button")
        tab.wait_for_selector("#search-results li")
        first = tab.locator("#search-results li a").first
        assert "immigrés" in first.inner_text()
        first.click()
        assert tab.url.endswith("/fr/indicators/IMM_STOCK.html")
        assert tab.get_attribute("html", "lang") == "fr"
        tab.goto(start.replace("index.html", "search.html") + "?q=Béni+Mellal")
        tab.wait_for_selector("#search-results li")
        assert "Béni Mellal" in tab.locator("#search-results li a").first.inner_text()
        tab.goto(start.replace("index.html", "search.html") + "?q=zzzzqqq")
        assert tab.inner_text("#search-count") == "Aucun résultat."
    finally:
        tab.close()


def test_the_bulk_download_holds_every_file_of_the_edition(site, built, server, chromium, tmp_path):
    manifests = {p.parent.name: p for p in built.snapshots.glob("*/*/manifest.json")}
    assert manifests
    tab = chromium.new_page(accept_downloads=True)
    try:
        tab.goto(f"{server}/en/downloads.html")
        with tab.expect_download() as caught:
            tab.locator('a[href$=".zip"]').first.click()
        saved = tmp_path / caught.value.suggested_filename
        caught.value.save_as(saved)
    finally:
        tab.close()
    with zipfile.ZipFile(saved) as archive:
        names = set(archive.namelist())
    assert {"indicators.parquet", "manifest.json", "exports/sdmx/2.0/national.csv"} <= names
    assert "exports/sdmx/structure.xml" in names
    assert any(n.startswith("exports/open-sdg/data/") for n in names)


def _axe_violations(chromium, url: str) -> list[dict]:
    from axe_playwright_python.sync_playwright import Axe

    tab = chromium.new_page()
    try:
        tab.goto(url)
        results = Axe().run(
            tab, options={"runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21aa"]}}
        )
    finally:
        tab.close()
    return [
        {"id": v["id"], "impact": v["impact"], "target": v["nodes"][0]["target"]}
        for v in results.response["violations"]
        if v["impact"] in ("serious", "critical")
    ]


@pytest.mark.parametrize(
    "language",
    [
        "en",
        "ar",
        pytest.param("fr", marks=pytest.mark.slow),
        pytest.param("ro", marks=pytest.mark.slow),
    ],
)
def test_no_serious_accessibility_violation_on_any_page_kind(site, chromium, language):
    """axe-core 4.12 (WCAG 2.1 A and AA) on one page of each kind."""
    found = {kind: _axe_violations(chromium, (site / language / kind).as_uri()) for kind in KINDS}
    assert {k: v for k, v in found.items() if v} == {}


def _table_rows(html: str, table_class: str) -> list[list[str]]:
    body = re.search(rf'<table class="{table_class}">(.*?)</table>', html, re.S)
    assert body, table_class
    rows = re.findall(r"<tr>(.*?)</tr>", body[1], re.S)
    return [
        [
            re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r"<t[dh][^>]*>(.*?)</t[dh]>", r, re.S)
        ]
        for r in rows
    ]


def test_the_indicator_page_sets_countries_side_by_side_with_their_snapshot_values(site, built):
    """UN DESA's 2019 immigrant stock (worked in the data README: Morocco 98,574), and every
    country's latest national total as pandas reads it from its snapshot."""
    html = (site / "en" / "indicators" / "IMM_STOCK.html").read_text(encoding="utf-8")
    rows = {r[0]: r for r in _table_rows(html, "latest")[1:]}
    assert rows["Morocco"][2] == "98,574" and rows["Morocco"][4] == "2019"
    for country, name in (("MAR", "Morocco"), ("MDA", "Moldova"), ("PHL", "Philippines")):
        folder = max((built.snapshots / country).iterdir())
        values = pd.read_parquet(folder / "indicators.parquet")
        national = values[
            (values.indicator_id == "IMM_STOCK")
            & (values.ref_area == country)
            & (values.counterpart_area == "_T")
            & (values.sex == "_T")
        ].sort_values("time_period")
        last = national.iloc[-1]
        assert rows[name][2] == f"{last.obs_value:,.0f}" and rows[name][4] == last.time_period
    assert html.count('<figure class="chart') >= 1  # the latest values compared
    # every period of every country side by side: Morocco's 1990 stock beside the others'
    table = re.search(
        r'<table class="side-by-side" id="series-IMM_STOCK">(.*?)</table>', html, re.S
    )
    assert table and "54,895" in table[1] and "Moldova" in table[1]


def test_chart_csv_carries_unit_series_source_and_flags(site):
    html = (site / "fr" / "indicators" / "EMI_STOCK.html").read_text(encoding="utf-8")
    links = re.findall(r'href="data:text/csv;charset=utf-8,([^"]+)"', html)
    assert links
    for link in links:
        lines = unquote(link).lstrip("\ufeff").splitlines()
        header = lines[0].split(",")
        assert header[1:6] == ["Valeur", "Unité", "Remarque", "Série", "Source"]
        assert header[-2:] == ["OBS_STATUS", "CONF_STATUS"]
        assert all(line.count(",") >= 7 for line in lines[1:])
    assert "Estimated value" not in html  # flags in French: "valeur estimée"


def test_status_pages_count_every_catalogue_indicator_once(site, built):
    """Each country's counts add up to the catalogue, and every indicator Part D lists as a
    gap is a gap (or held back) on the reporting-status page."""
    from indicators.catalogue import catalogue

    size = len(catalogue())
    html = (site / "en" / "status" / "reporting.html").read_text(encoding="utf-8")
    counts = _table_rows(html, "status-counts")[1:]
    assert len(counts) == 4
    for row in counts:
        numbers = [int(c.split(" ")[0]) for c in row[1:]]
        assert sum(numbers) == size, row
    matrix = {r[0]: r[1:] for r in _table_rows(html, "status-matrix")[1:]}
    header = _table_rows(html, "status-matrix")[0][1:]
    names = {i.id: i.name for i in catalogue()}
    for country, name in (("GEO", "Georgia"), ("MAR", "Morocco")):
        folder = max((built.snapshots / country).iterdir())
        manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
        column = header.index(name)
        for gap in manifest["validation"]["gaps"]:
            assert matrix[names[gap["indicator_id"]]][column] in ("data gap", "held back")
    assert "Reporting by ministries and offices" in html
    assert "Office des Changes" in html  # Morocco's register, as in Part D


def test_area_pages_are_local_profiles_with_their_pdf(site, built):
    html = unescape((site / "fr" / "areas" / "MA-05.html").read_text(encoding="utf-8"))
    assert "Béni Mellal-Khénifra" in html
    assert 'href="../countries/MAR.html"' in html
    # its provinces have pages, linked from the region's
    assert 'href="MA-KHO.html"' in html
    # the project asking for a baseline in this region
    assert "Morocco-32" in html and "zone d'intervention" in html
    pdf = site / "fr" / "areas" / "MA-05.pdf"
    assert pdf.is_file()
    text = subprocess.run(["pdftotext", str(pdf), "-"], capture_output=True, text=True).stdout
    assert "Béni Mellal-Khénifra" in text
    # a confidential cell shows the word, never a number
    values = pd.read_parquet(max((built.snapshots / "MAR").iterdir()) / "indicators.parquet")
    hidden = values[(values.ref_area == "MA-05") & (values.conf_status == "C")]
    if len(hidden):
        assert "confidentiel" in html
    # the Philippine regions carry the registered emigrants by region of origin
    phl = [p for p in (site / "en" / "areas").glob("PH-*.html")]
    assert phl and any("emigrants" in p.read_text(encoding="utf-8").lower() for p in phl)


@pytest.mark.slow
def test_the_site_is_built_from_snapshots_alone_and_follows_approvals(built, tmp_path):
    """From a copy of one country's snapshots (no warehouse anywhere): built, then unchanged
    on a second build, then rebuilt when the working group approves the edition."""
    snapshots = tmp_path / "snapshots"
    shutil.copytree(built.snapshots / "MDA", snapshots / "MDA")
    output = tmp_path / "site"
    first = build_site(snapshots, output)
    assert first.status == "built" and first.pages > 40
    assert not list(tmp_path.rglob("*.duckdb"))
    home = (output / "ro" / "index.html").read_text(encoding="utf-8")
    assert "Republica Moldova" in home or "Moldova" in home
    assert "ciornă" in home.lower() or "neaprobat" in home.lower()
    assert build_site(snapshots, output).status == "unchanged"
    version = max((snapshots / "MDA").iterdir()).name
    approve(snapshots, "MDA", version, "TWG chair", "meeting of 4 December")
    again = build_site(snapshots, output)
    assert again.status == "built" and again.pdfs == 0  # the local profiles did not change
    home = (output / "en" / "index.html").read_text(encoding="utf-8")
    assert "approved edition" in home


@pytest.mark.slow
def test_a_country_offered_in_english_alone_is_printed_once_and_linked_from_every_language(
    built, tmp_path
):
    """A country outside the working groups' list (sources/reference/profile_languages.csv)
    has its pages in every language of the site but one print edition, in English: the
    French page and home link to it and say its language; no French PDF is printed."""
    import duckdb

    from publish.country_profiles import publish_country
    from publish.report import profile_languages
    from tests.conftest import warehouse_resource

    with duckdb.connect(str(built.database), read_only=True) as con:
        rows = con.execute("SELECT DISTINCT ref_area FROM marts.indicators").fetchall()
        areas = [r[0] for r in rows]
        country = next(a for a in sorted(areas) if profile_languages(a) == ("en", ["en"]))
        assert country == "ABW"  # Aruba: the first code of the international data
        warehouse = warehouse_resource(built.snapshots.parent)
        snapshots = tmp_path / "snapshots"
        published = publish_country(
            con, country, snapshots, warehouse.specs, warehouse.disclosure, "20261206T000000Z"
        )
    assert published.status == "published"
    output = tmp_path / "site"
    assert build_site(snapshots, output).status == "built"
    files = output / "downloads" / country / "20261206T000000Z"
    assert sorted(p.name for p in files.glob("profile.*.pdf")) == ["profile.en.pdf"]
    page = (output / "fr" / "countries" / f"{country}.html").read_text(encoding="utf-8")
    assert 'href="../../downloads/ABW/20261206T000000Z/profile.en.pdf" hreflang="en"' in page
    assert 'Édition imprimable (PDF) <bdi lang="en">(English)</bdi>' in unescape(page)
    home = unescape((output / "ar" / "index.html").read_text(encoding="utf-8"))
    assert "profile.en.pdf" in home and '<bdi lang="en">(English)</bdi>' in home
