"""Place names as a reader in each language expects them: the statistics office's own names
where declared (sources/reference/area_names.csv), else, for countries, the usual short name in
CLDR (Babel: Moldavie, Republica Moldova, مولدوفا) rather than ISO's inverted official form
("Moldova, Republica"), else pycountry's ISO 3166 translations, with ISO's editorial remarks
(such as "(EH-partial)") left out."""

from __future__ import annotations

import csv
import gettext
import re
from functools import cache

import pycountry
from babel import Locale, UnknownLocaleError

from sources.geography import REFERENCE_DIR, admin_areas, areas

#: ISO 3166-2 remarks in a subdivision name that are not part of the name an office uses:
#: a trailing parenthesised country code, "(EH)" or "(EH-partial)".
_ISO_REMARK = re.compile(r"\s*\((?:[A-Z]{2})(?:-partial)?\)\s*$")


@cache
def declared_names() -> dict[tuple[str, str], str]:
    """(code, language) -> name, as declared in area_names.csv."""
    with open(REFERENCE_DIR / "area_names.csv", newline="", encoding="utf-8") as handle:
        return {(r["code"], r["language"]): r["name"] for r in csv.DictReader(handle)}


@cache
def _iso(domain: str, language: str):
    if language == "en":
        return lambda text: text
    try:
        return gettext.translation(domain, pycountry.LOCALES_DIR, languages=[language]).gettext
    except OSError:
        return lambda text: text


@cache
def _english_names() -> dict[str, str]:
    names = dict(zip(areas()["code"], areas()["name"], strict=True))
    admin = admin_areas().sort_values("valid_to", na_position="last")
    names.update(dict(zip(admin["code"], admin["name"], strict=True)))
    return names


def _country_name(code: str, language: str) -> str | None:
    country = pycountry.countries.get(alpha_3=code)
    if country is None:
        return None
    usual = _usual_names(language).get(country.alpha_2)
    if usual and " - " not in usual:  # CLDR's "Congo - Kinshasa" is a picker's label
        return usual
    translate = _iso("iso3166-1", language)
    common = getattr(country, "common_name", None)
    if common and translate(common) != common or (common and language == "en"):
        return translate(common)
    return translate(country.name)


@cache
def _usual_names(language: str) -> dict[str, str]:
    """CLDR's country names in `language` (Republica Moldova, Moldavie), by alpha-2 code."""
    try:
        return dict(Locale.parse(language).territories)
    except (UnknownLocaleError, ValueError):
        return {}


def place_name(code: str, language: str = "en") -> str:
    """The name of a country, region or province in `language`; the code itself when EMP does
    not know the place."""
    for lang in (language, "en"):
        found = declared_names().get((code, lang))
        if found:
            return found
    country = _country_name(code, language)
    if country:
        return country
    english = _english_names().get(code)
    if english is None:
        return code
    domain = "iso3166-2" if "-" in code else "iso3166-1"
    return _ISO_REMARK.sub("", _iso(domain, language)(english))
