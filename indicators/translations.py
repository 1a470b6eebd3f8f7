"""The catalogue in each language: indicator names and definitions, Part and module titles,
units, series and code labels, kept as data in indicators/translations/<lang>.yaml (English
terms in en.yaml, English indicator texts in the catalogue itself). A missing entry falls back
to English and is listed by `missing_catalogue_translations`."""

from __future__ import annotations

import dataclasses
import re
from functools import cache
from pathlib import Path

from indicators.catalogue import Indicator, catalogue
from sources.i18n import LANGUAGES, SOURCE_LANGUAGE, _
from sources.yaml_files import read_yaml

TRANSLATIONS_DIR = Path(__file__).parent / "translations"
#: The indicator fields a reader meets, translated per language.
INDICATOR_FIELDS = (
    "name",
    "definition",
    "numerator",
    "denominator",
    "official_definition",
    "national_source",
)
TERM_KINDS = ("parts", "modules", "units", "series", "codes")
_DEPARTED = re.compile(r"DEPARTED_(\d{4})")


@cache
def _document(language: str) -> dict:
    path = TRANSLATIONS_DIR / f"{language}.yaml"
    if not path.exists():
        return {}
    return read_yaml(path) or {}


def term(kind: str, code: str, language: str = SOURCE_LANGUAGE) -> str | None:
    """The word for a Part, module, unit, series or code in `language`, else in English, else
    None."""
    for lang in (language, SOURCE_LANGUAGE):
        found = (_document(lang).get(kind) or {}).get(code)
        if found:
            return str(found)
    return None


def code_label(code: str, language: str = SOURCE_LANGUAGE) -> str | None:
    """A dimension code in words: M "men", _O "other countries", DEPARTED_2010 "left in 2010"."""
    found = term("codes", code, language)
    if found:
        return found
    departed = _DEPARTED.fullmatch(code)
    if departed:
        return _("left in {year}", language=language, year=departed[1])
    return None


def localised(indicator: Indicator, language: str) -> Indicator:
    """The indicator with its reader-facing texts in `language` (English where missing)."""
    if language == SOURCE_LANGUAGE:
        return indicator
    entry = (_document(language).get("indicators") or {}).get(indicator.id) or {}
    changes = {f: " ".join(str(entry[f]).split()) for f in INDICATOR_FIELDS if entry.get(f)}
    return dataclasses.replace(indicator, **changes)


def localised_catalogue(language: str) -> tuple[Indicator, ...]:
    return tuple(localised(i, language) for i in catalogue())


def missing_catalogue_translations(language: str) -> list[str]:
    """What the catalogue's translation into `language` lacks, one line per missing text."""
    if language == SOURCE_LANGUAGE:
        return []
    document = _document(language)
    missing = []
    for kind in TERM_KINDS:
        have = document.get(kind) or {}
        for code in _document(SOURCE_LANGUAGE).get(kind) or {}:
            if not have.get(code):
                missing.append(f"indicators/translations/{language}.yaml: {kind}.{code}")
    entries = document.get("indicators") or {}
    for indicator in catalogue():
        entry = entries.get(indicator.id) or {}
        for field in INDICATOR_FIELDS:
            if getattr(indicator, field) and not entry.get(field):
                missing.append(
                    f"indicators/translations/{language}.yaml: indicators.{indicator.id}.{field}"
                )
    return missing


def supported_languages() -> tuple[str, ...]:
    return LANGUAGES
