"""`emp site`: one static site of every profile, built from the published editions alone (it
never opens the warehouse), in every profile language, each page linking to itself in the
others. It opens from file:// and from any static web server, needs no network, and its search
runs in the page. Layout:

    index.html                      chooses a language
    <lang>/index.html               the countries, their headline figures and editions
    <lang>/countries/<ISO3>.html    each profile, with its PDF and downloads
    <lang>/indicators/index.html, <lang>/indicators/<ID>.html
    <lang>/areas/index.html, <lang>/areas/<code>.html (and .pdf for regions with enough figures)
    <lang>/status/reporting.html, <lang>/status/disaggregation.html
    <lang>/downloads.html, <lang>/search.html, search/<lang>.js
    downloads/<ISO3>/<version>/...  the edition's Parquet, CSV, SDMX and Open SDG files, its
                                    print editions, and emp-<ISO3>-<version>.zip with them all
"""

from __future__ import annotations

import fcntl
import filecmp
import hashlib
import json
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import weasyprint
from jinja2 import Environment

from publish.approvals import compared_with, current_edition
from publish.chart_cache import chart_cache
from publish.pdf import PRINT_EDITION, print_builder, printable_charts
from publish.report import (
    FIRST_TIER,
    ProfileBuilder,
    _environment,
    profile_languages,
    render_builder,
    script_safe_json,
)
from publish.site_chrome import (
    COUNTRY_PAGE,
    SITE_VARIANT,
    country_bar,
    edition_files,
    other_language,
    printing_language,
    site_bar,
    site_languages,
)
from publish.site_pages import (
    STATUS_WORDS,
    Edition,
    area_page,
    area_tree,
    areas_with_data,
    figures_by_area,
    headline_figures,
    index_parts,
    indicator_page,
    level_word,
    published_on,
    read_baselines,
    slug,
    status_counts,
    status_word,
    statuses_for,
)
from publish.site_status import DIMENSIONS
from publish.snapshot_index import list_snapshots
from publish.workers import map_in_processes
from sources.atomic import copy_atomically, write_atomically
from sources.i18n import LANGUAGE_NAMES, N_, SOURCE_LANGUAGE, _

ASSETS = Path(__file__).parent / "site_assets"
BUILT_FROM = ".built-from.json"
LOCK = ".build.lock"
#: a region's local profile is also printed when it has at least this many figures
PDF_MIN_FIGURES = 3
#: the files of an edition offered for download, and what each holds
DOWNLOADS = {
    "indicators.parquet": N_("every published value, with its flags and sources (Parquet)"),
    "baselines.parquet": N_("the projects' baselines (Parquet)"),
    "baseline_panel.parquet": N_("the evaluators' panel (Parquet)"),
    "manifest.json": N_("what the edition rests on: inputs, checks, approvals (JSON)"),
    "exports/sdmx/2.0/sdg.csv": N_("SDG indicators, SDMX-CSV 2.0"),
    "exports/sdmx/2.0/national.csv": N_("national series, SDMX-CSV 2.0"),
    "exports/sdmx/structure.xml": N_("SDMX structures: codelists, concepts, DSDs, dataflows"),
}


@dataclass(frozen=True)
class SiteResult:
    status: str  # built, unchanged or empty
    path: Path
    pages: int = 0
    pdfs: int = 0
    seconds: float = 0.0


def code_fingerprint() -> str:
    """What the site's pages are made with: the publishing code, templates, assets, catalogue
    and translations; a change to any rebuilds the site."""
    root = Path(__file__).parent.parent
    digest = hashlib.sha256()
    patterns = [
        "publish/*.py",
        "publish/templates/**/*.j2",
        "publish/site_assets/*",
        "sources/locale/**/*.po",
        "indicators/translations/*.yaml",
        "indicators/catalogue.yaml",
        "sources/reference/*.csv",
    ]
    for pattern in patterns:
        for path in sorted(root.glob(pattern)):
            digest.update(path.relative_to(root).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def shown_editions(snapshots_dir: Path) -> dict[str, Edition]:
    """Each country's edition the public reads: its latest approved, else its newest draft."""
    editions = {}
    for country in sorted({s["country"] for s in list_snapshots(snapshots_dir)}):
        snap, status = current_edition(snapshots_dir, country)
        if snap:
            editions[country] = Edition(country, snap["version"], status, Path(snap["path"]))
    return editions


class SiteWriter:
    """Writes the pages of one build and remembers them (what it did not write goes)."""

    def __init__(self, output: Path, languages: list[str]) -> None:
        self.output = output
        self.languages = languages
        self.written: set[Path] = set()
        self.environments: dict[str, Environment] = {}

    def environment(self, language: str) -> Environment:
        if language not in self.environments:
            self.environments[language] = _environment(language)
        return self.environments[language]

    def file(self, relative: str, content: str | bytes) -> Path:
        path = self.output / relative
        write_atomically(path, content)
        self.written.add(path)
        return path

    def copy(self, source: Path, relative: str) -> Path:
        path = self.output / relative
        if not path.exists() or not filecmp.cmp(source, path, shallow=False):
            copy_atomically(source, path)
        self.written.add(path)
        return path

    def page(self, language: str, page: str, template: str, title: str, **context) -> str:
        html = (
            self.environment(language)
            .get_template(f"site/{template}")
            .render(
                site=site_bar(language, page),
                title=title,
                kind=template.split(".")[0],
                **context,
            )
        )
        self.file(f"{language}/{page}", html)
        return html

    def keep(self, relative: str) -> None:
        self.written.add(self.output / relative)

    def sweep(self) -> None:
        """Remove what an earlier build wrote and this one did not (an edition replaced)."""
        for path in sorted(self.output.rglob("*"), reverse=True):
            if path.is_file() and path not in self.written and path.name not in (BUILT_FROM, LOCK):
                path.unlink()
            elif path.is_dir() and not any(path.iterdir()):
                path.rmdir()


def _size(path: Path, language: str) -> str:
    from sources.i18n import format_number

    kilobytes = path.stat().st_size / 1024
    if kilobytes >= 1024:
        return _("{size} MB", language=language, size=format_number(kilobytes / 1024, language, 1))
    return _("{size} KB", language=language, size=format_number(max(kilobytes, 1), language, 0))


def edition_downloads(writer: SiteWriter, edition: Edition, reports_dir: Path | None) -> dict:
    """The edition's files under downloads/<ISO3>/<version>/ and their zip; returns their
    relative paths. An edition never changes, so files already there are kept."""
    base = edition_files(edition.country, edition.version)
    files = {}
    for name in DOWNLOADS:
        source = edition.path / name
        if source.is_file():
            writer.copy(source, f"{base}/{name}")
            files[name] = f"{base}/{name}"
    for source in sorted((edition.path / "exports").rglob("*")):
        name = source.relative_to(edition.path).as_posix()
        if source.is_file() and name not in files:
            writer.copy(source, f"{base}/{name}")
    zip_name = f"{base}/emp-{edition.country}-{edition.version}.zip"
    target = writer.output / zip_name
    if not target.exists():
        buffer_path = target.with_name(target.name + ".part")
        buffer_path.parent.mkdir(parents=True, exist_ok=True)
        with zipfile.ZipFile(buffer_path, "w", zipfile.ZIP_DEFLATED) as archive:
            for source in sorted(edition.path.rglob("*")):
                if source.is_file() and (source.suffix in (".parquet", ".csv", ".xml", ".json")):
                    archive.write(source, source.relative_to(edition.path).as_posix())
        buffer_path.replace(target)
    writer.keep(zip_name)
    return {"base": base, "files": files, "zip": zip_name}


def profile_pdf(
    writer: SiteWriter, edition: Edition, builder: ProfileBuilder, context: dict, reports_dir
) -> str:
    """The profile's print edition in the site: the report step's PDF when there is one. A page
    in a language the profile is not offered in links to the default language's (printed
    when the site comes to that language)."""
    printed_in = printing_language(edition.country, builder.language)
    relative = f"{edition_files(edition.country, edition.version)}/profile.{printed_in}.pdf"
    if printed_in != builder.language:
        return relative
    printed = None
    if reports_dir is not None:
        printed = Path(reports_dir) / "profile" / edition.country
        printed = printed / PRINT_EDITION.format(version=edition.version, lang=builder.language)
    stamp = f"{relative}.status"  # a draft's print edition says so on every page
    if printed is not None and printed.is_file():
        writer.copy(printed, relative)
    elif not (writer.output / relative).is_file() or (
        not (writer.output / stamp).is_file()
        or (writer.output / stamp).read_text(encoding="utf-8") != edition.status
    ):
        print_builder(builder, writer.output / relative, context)
    folder = (writer.output / relative).parent
    for extra in folder.glob(f"profile.{builder.language}.subnational.*"):
        writer.keep(str(extra.relative_to(writer.output)))
    writer.file(stamp, edition.status)
    writer.keep(relative)
    return relative


def build_site(
    snapshots_dir: Path, output: Path, reports_dir: Path | None = None, force: bool = False
) -> SiteResult:
    """Build (or bring up to date) the site in `output` from the editions in `snapshots_dir`;
    `reports_dir` lends the profiles' print editions when the refresh made them."""
    output = Path(output)
    output.mkdir(parents=True, exist_ok=True)
    # one build at a time (a refresh and an approval may end together): the second waits,
    # then builds from the editions as they are then
    with open(output / LOCK, "a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            return _build(Path(snapshots_dir), output, reports_dir, force)
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def _build(snapshots_dir: Path, output: Path, reports_dir: Path | None, force: bool) -> SiteResult:
    started = datetime.now(UTC)
    editions = shown_editions(Path(snapshots_dir))
    if not editions:
        return SiteResult("empty", output)
    built_from = {
        "editions": {c: [e.version, e.status] for c, e in editions.items()},
        "code": code_fingerprint(),
    }
    record = output / BUILT_FROM
    if not force and (output / "index.html").is_file() and record.is_file():
        try:
            if json.loads(record.read_text(encoding="utf-8")) == built_from:
                return SiteResult("unchanged", output)
        except ValueError:
            pass
    languages = site_languages()
    writer = SiteWriter(output, languages)
    for asset in ASSETS.iterdir():
        writer.copy(asset, f"assets/{asset.name}")
    downloads = {c: edition_downloads(writer, e, reports_dir) for c, e in editions.items()}
    jobs = [
        (output, languages, x, editions, downloads, Path(snapshots_dir), reports_dir)
        for x in languages
    ]
    pdfs = 0
    for printed, written in map_in_processes(_language_job, jobs):
        pdfs += printed
        writer.written |= written
    writer.file("index.html", _chooser(writer, languages))
    writer.sweep()
    write_atomically(record, json.dumps(built_from))
    pages = sum(1 for p in writer.written if p.suffix == ".html")
    seconds = (datetime.now(UTC) - started).total_seconds()
    return SiteResult("built", output, pages, pdfs, seconds)


def _language_job(job: tuple) -> tuple[int, set[Path]]:
    """One language's pages (in a worker process): the PDFs it printed and the files it wrote."""
    output, languages, language, editions, downloads, snapshots_dir, reports_dir = job
    writer = SiteWriter(output, languages)
    printed = _language(writer, language, editions, downloads, snapshots_dir, reports_dir)
    return printed, writer.written


def _chooser(writer: SiteWriter, languages: list[str]) -> str:
    """The site's root: every language, and on to the first (English where offered)."""
    first = SOURCE_LANGUAGE if SOURCE_LANGUAGE in languages else languages[0]
    return (
        writer.environment(first)
        .get_template("site/chooser.html.j2")
        .render(
            first=first,
            title=" · ".join(_("Extended Migration Profiles", language=x) for x in languages),
            languages=[{"code": x, "name": LANGUAGE_NAMES.get(x, x)} for x in languages],
        )
    )


def _language(
    writer: SiteWriter,
    language: str,
    editions: dict[str, Edition],
    downloads: dict[str, dict],
    snapshots_dir: Path,
    reports_dir: Path | None,
) -> int:
    """Every page of the site in one language; returns how many PDFs it printed."""
    builders = {
        c: ProfileBuilder(
            e.path,
            language,
            compared_with(snapshots_dir, c, e.version),
            chart_cache(reports_dir),
        )
        for c, e in editions.items()
    }
    statuses_for(editions, builders)
    first = next(iter(builders.values()))
    t = first.t
    names = {c: b.name(c) for c, b in builders.items()}
    pdf_of = {}
    # --- each country's profile: as the report step rendered it for the site, else rendered
    for country, builder in builders.items():
        edition = editions[country]
        rendered = None
        if reports_dir is not None:
            rendered = Path(reports_dir) / "profile" / country
            rendered = rendered / SITE_VARIANT.format(version=edition.version, lang=language)
        context = None
        page = f"{language}/{COUNTRY_PAGE.format(country=country)}"
        if rendered is not None and rendered.is_file():
            writer.copy(rendered, page)
        else:
            context = builder.context()
            context["site"] = country_bar(language, country, edition.version)
            writer.file(page, render_builder(builder, context=context))
        pdf_of[country] = profile_pdf(writer, edition, builder, context, reports_dir)
    # --- home
    countries = [
        {
            "name": names[c],
            "href": COUNTRY_PAGE.format(country=c),
            "version": e.version,
            "published": published_on(builders[c]),
            "status": status_word(builders[c], e.status),
            "status_code": e.status,
            "figures": headline_figures(builders[c]),
            "pdf": "../" + pdf_of[c],
            "pdf_language": other_language(c, language),
            "pdf_lang": printing_language(c, language),
            "zip": "../" + downloads[c]["zip"],
        }
        for c, e in editions.items()
    ]
    lead = t(
        "The migration profiles of {count} countries, each in its latest edition, with every "
        "indicator side by side, local profiles of regions and provinces, and the data behind "
        "them.",
        count=len(editions),
    )
    title = t("Extended Migration Profiles")
    writer.page(language, "index.html", "home.html.j2", title, countries=countries, lead=lead)
    # --- indicators
    heads = [{"name": names[c], "code": c} for c in editions]
    parts = index_parts(
        first, editions, lambda i: f"{slug(i)}.html", "reporting", STATUS_WORDS["reporting"]
    )
    writer.page(
        language,
        "indicators/index.html",
        "indicators.html.j2",
        t("Indicators"),
        parts=parts,
        countries=heads,
    )
    search = [
        {
            "title": names[c],
            "kind": t("Country profile"),
            "url": COUNTRY_PAGE.format(country=c),
            "text": f"{c} {builders[c].alpha2 or ''}",
        }
        for c in editions
    ]
    for indicator in first.catalogue.values():
        page = indicator_page(
            indicator, builders, editions, names, lambda c: f"../countries/{c}.html"
        )
        relative = f"indicators/{slug(indicator.id)}.html"
        writer.page(language, relative, "indicator.html.j2", indicator.name, **page)
        search.append(
            {
                "title": indicator.name,
                "kind": t("Indicator"),
                "url": relative,
                "text": f"{page['indicator']['definition']} {indicator.sdg_indicator or ''}",
            }
        )
    # --- areas
    pdfs = 0
    trees = []
    for country, builder in builders.items():
        codes = areas_with_data(builder)
        with_pages = set(codes)
        figures = figures_by_area(builder, codes)
        baselines = read_baselines(builder.folder)
        printing, _offered = profile_languages(country)  # local PDFs: in the profile's language
        trees.append({"name": names[country], "areas": area_tree(builder, codes, _area_href)})
        for code in codes:
            page = area_page(
                builder,
                code,
                figures[code],
                baselines,
                with_pages,
                _area_href,
                lambda i: f"../indicators/{slug(i)}.html",
            )
            name = builder.name(code)
            printed = (
                builder.levels.get(code) in FIRST_TIER and page["series_count"] >= PDF_MIN_FIGURES
            )
            area = {
                "level": level_word(builder, code),
                "parent": page.pop("parent"),
                "country": {"name": names[country], "href": f"../countries/{country}.html"},
                "edition": t("Edition {version}", version=editions[country].version),
                "pdf": f"../../{printing}/areas/{slug(code)}.pdf" if printed else None,
                "pdf_language": LANGUAGE_NAMES.get(printing, printing),
                "pdf_lang": printing,
            }
            html = writer.page(
                language,
                f"areas/{slug(code)}.html",
                "area.html.j2",
                f"{name} ({names[country]})",
                area=area,
                **page,
            )
            if printed and language == printing:
                pdfs += _print_area(writer, f"{language}/areas/{slug(code)}.pdf", html)
            parent = builder.parents.get(code)
            search.append(
                {
                    "title": f"{name} ({names[country]})",
                    "kind": level_word(builder, code),
                    "url": f"areas/{slug(code)}.html",
                    "text": f"{code} {builder.name(parent) if isinstance(parent, str) else ''}",
                }
            )
    writer.page(
        language,
        "areas/index.html",
        "areas.html.j2",
        t("Regions and provinces"),
        countries=trees,
    )
    # --- status pages
    leads = {
        "reporting": t(
            "Per country and indicator: published (a national value for every series), "
            "partly published, held back (a source it rests on was held back) or a data gap."
        ),
        "disaggregation": t(
            "Per country and indicator: how many of the breakdowns the catalogue asks for "
            "(sex, age, region, partner country...) the edition gives."
        ),
    }
    titles = {"reporting": t("Reporting status"), "disaggregation": t("Disaggregation status")}
    for kind, words in STATUS_WORDS.items():
        rows = []
        for indicator in first.catalogue.values():
            cells = []
            for edition in editions.values():
                found = next(s for s in edition.statuses if s.indicator_id == indicator.id)
                status = getattr(found, kind)
                missing = kind == "disaggregation" and status in ("some", "none")
                cells.append(
                    {
                        "code": status,
                        "word": t(words[status]),
                        "missing": ", ".join(t(DIMENSIONS[d]) for d in found.missing)
                        if missing
                        else "",
                    }
                )
            asked = ", ".join(t(DIMENSIONS[d]) for d in indicator.disaggregations)
            rows.append(
                {
                    "name": indicator.name,
                    "href": f"../indicators/{slug(indicator.id)}.html",
                    "statuses": cells,
                    "asked": asked or t("none"),
                }
            )
        writer.page(
            language,
            f"status/{kind}.html",
            f"{kind}.html.j2",
            titles[kind],
            statuses=[{"code": k, "word": t(w)} for k, w in words.items()],
            countries=[
                {
                    "name": names[c],
                    "href": f"../countries/{c}.html",
                    "counts": status_counts(builders[c], e, kind, words),
                    "reporting": builders[c].reporting(),
                }
                for c, e in editions.items()
            ],
            indicators=rows,
            lead=leads[kind],
        )
    # --- downloads and search
    listed = []
    for c, e in editions.items():
        files = [
            {"name": name, "href": "../" + path, "what": t(DOWNLOADS[name])}
            for name, path in downloads[c]["files"].items()
        ]
        files.append(
            {
                "name": Path(pdf_of[c]).name,
                "href": "../" + pdf_of[c],
                "what": " ".join(
                    filter(None, [t("Print edition (PDF)"), _in_brackets(c, language)])
                ),
            }
        )
        listed.append(
            {
                "code": c,
                "name": names[c],
                "version": e.version,
                "published": published_on(builders[c]),
                "status": status_word(builders[c], e.status),
                "zip": "../" + downloads[c]["zip"],
                "zip_size": _size(writer.output / downloads[c]["zip"], language),
                "files": files,
            }
        )
    writer.page(language, "downloads.html", "downloads.html.j2", t("Downloads"), countries=listed)
    writer.page(language, "search.html", "search.html.j2", t("Search"))
    writer.file(f"search/{language}.js", f"window.EMP_SEARCH = {script_safe_json(search)};\n")
    return pdfs


def _in_brackets(country: str, language: str) -> str | None:
    other = other_language(country, language)
    return f"({other})" if other else None


def _area_href(code: str) -> str:
    return f"{slug(code)}.html"


def _print_area(writer: SiteWriter, relative: str, html: str) -> int:
    """Print a local profile, unless the same page was printed before (its digest kept)."""
    path = writer.output / relative
    digest = hashlib.sha256(html.encode()).hexdigest()
    stamp = path.with_name(path.name + ".sha256")
    writer.keep(relative)
    writer.keep(str(stamp.relative_to(writer.output)))
    if path.is_file() and stamp.is_file() and stamp.read_text() == digest:
        return 0
    pdf = weasyprint.HTML(string=printable_charts(html), base_url=str(path.parent)).write_pdf()
    write_atomically(path, pdf)
    write_atomically(stamp, digest)
    return 1
