"""The bar at the top of every page of the public site (its sections, search, the same page in
each language), shared by the site's own pages and the profile pages the report step renders
for it, so a country's page is rendered once from the context of its profile."""

from __future__ import annotations

import csv

from publish.report import profile_languages
from sources.geography import REFERENCE_DIR
from sources.i18n import LANGUAGE_NAMES, N_, SOURCE_LANGUAGE, _, text_direction

SECTIONS = (
    ("index.html", N_("Home")),
    ("indicators/index.html", N_("Indicators")),
    ("areas/index.html", N_("Regions and provinces")),
    ("status/reporting.html", N_("Reporting status")),
    ("status/disaggregation.html", N_("Disaggregation status")),
    ("downloads.html", N_("Downloads")),
)
#: a country's page in the site, from the language's root
COUNTRY_PAGE = "countries/{country}.html"
#: under the report folder (site/): the same profile as `<version>.<lang>.html`, with the site bar
SITE_VARIANT = "site/{version}.{lang}.html"


def site_languages() -> list[str]:
    """Every language a profile is offered in (sources/reference/profile_languages.csv), and
    English: the site has each of its pages in each."""
    found = {SOURCE_LANGUAGE}
    with open(REFERENCE_DIR / "profile_languages.csv", newline="", encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            found |= {x for x in row["languages"].split(";") if x} | {row["default_language"]}
    return [x for x in LANGUAGE_NAMES if x in found] + sorted(found - set(LANGUAGE_NAMES))


def edition_files(country: str, version: str) -> str:
    """Where the site keeps an edition's files, from the site's root."""
    return f"downloads/{country}/{version}"


def site_bar(language: str, page: str, downloads: list[dict] | None = None) -> dict:
    """The bar of the page `page` (a path from the language's root) in `language`."""
    root = "../" * page.count("/")
    section = page.split("/")[0]
    return {
        "lang": language,
        "dir": text_direction(language),
        "root": root,
        "top": root + "../",
        "page": page,
        "languages": [
            {
                "code": code,
                "name": LANGUAGE_NAMES.get(code, code),
                "href": f"{root}../{code}/{page}",
                "current": code == language,
            }
            for code in site_languages()
        ],
        "nav": [
            {
                "href": root + path,
                "label": _(label, language=language),
                "current": path == page
                or (path.endswith("/index.html") and path.split("/")[0] == section),
            }
            for path, label in SECTIONS
        ],
        "downloads": downloads or [],
    }


def printing_language(country: str, language: str) -> str:
    """The language of the print edition a page in `language` offers: its own when the
    country's profile is offered in it, else the profile's default language (the site has
    every page in every language; print editions are made in the profile's languages)."""
    default, offered = profile_languages(country)
    return language if language in offered else default


def other_language(country: str, language: str) -> str | None:
    """The name of the print edition's language when it is not the page's."""
    printed_in = printing_language(country, language)
    return LANGUAGE_NAMES.get(printed_in, printed_in) if printed_in != language else None


def country_bar(language: str, country: str, version: str) -> dict:
    """The bar of a country's profile in the site, with its print edition (named by its
    language when the profile is not printed in `language`) and its files."""
    files = "../../" + edition_files(country, version)
    printed_in = printing_language(country, language)
    label = _("Print edition (PDF)", language=language)
    other = other_language(country, language)
    return site_bar(
        language,
        COUNTRY_PAGE.format(country=country),
        [
            {
                "href": f"{files}/profile.{printed_in}.pdf",
                "label": label,
                "lang": printed_in,
                "other_language": other,  # the PDF's language, named when not the page's
            },
            {
                "href": f"{files}/emp-{country}-{version}.zip",
                "label": _("Every file of this edition (zip)", language=language),
                "download": True,
            },
            {
                "href": f"../downloads.html#{country}",
                "label": _("Data, SDMX and Open SDG files", language=language),
            },
        ],
    )
