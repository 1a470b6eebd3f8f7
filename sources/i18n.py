"""The languages EMP speaks: gettext message catalogs (sources/locale/<lang>/LC_MESSAGES/emp.po,
read with Babel, no compile step), locale-aware numbers and dates, and messages translated at the
moment they are shown.

Messages are written in English in the code, marked with `N_()` (or `_()` where they are shown at
once) and formatted with `str.format` placeholders: `N_("no spec matches {name}").format(name=x)`.
What is stored (quarantine reasons, manifests, snapshot comments) stays in English; `localise`
recognises a stored English message by its template and gives it in the reader's language, with
its arguments in place.
"""

from __future__ import annotations

import gettext
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date, datetime
from functools import cache, lru_cache
from io import BytesIO
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date as _format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import read_po
from babel.numbers import format_decimal, format_percent

LOCALE_DIR = Path(__file__).parent / "locale"
DOMAIN = "emp"
SOURCE_LANGUAGE = "en"
#: The languages every message, label and report exists in (Georgian can be added the same way:
#: a ka/LC_MESSAGES/emp.po and an indicators/translations/ka.yaml).
LANGUAGES = ("en", "fr", "ar", "ro")
RIGHT_TO_LEFT = frozenset({"ar", "fa", "he", "ur"})
LANGUAGE_NAMES = {"en": "English", "fr": "Français", "ar": "العربية", "ro": "Română"}

_language: ContextVar[str] = ContextVar("emp_language", default="")


def N_(message: str) -> str:  # noqa: N802 - the gettext convention for "mark, do not translate"
    """Mark a message for extraction; it is translated where it is shown (see `localise`)."""
    return message


def normalise_language(value: str | None) -> str | None:
    """'fr_FR.UTF-8' -> 'fr'; None when the language is not one EMP speaks."""
    if not value:
        return None
    code = re.split(r"[_.@-]", value.strip())[0].lower()
    return code if code in LANGUAGES else None


def current_language() -> str:
    """The language set for this run, else EMP_LANG, else the user's locale, else English."""
    chosen = _language.get()
    if chosen:
        return chosen
    for variable in ("EMP_LANG", "LANGUAGE", "LC_ALL", "LC_MESSAGES", "LANG"):
        for part in os.environ.get(variable, "").split(":"):
            found = normalise_language(part)
            if found:
                return found
    return SOURCE_LANGUAGE


def set_language(language: str | None) -> str:
    """Use `language` for what this run shows; an unknown one raises ValueError."""
    if language is None:
        return current_language()
    found = normalise_language(language)
    if not found:
        raise ValueError(f"unknown language {language!r}; EMP speaks {', '.join(LANGUAGES)}")
    _language.set(found)
    return found


@contextmanager
def language_scope(language: str | None) -> Iterator[str]:
    """`language` for what is shown inside the block (None: as it is), restored after it, so
    one command's `--lang` never outlives it."""
    token = _language.set(_language.get())
    try:
        yield set_language(language)
    finally:
        _language.reset(token)


def catalog_path(language: str) -> Path:
    return LOCALE_DIR / language / "LC_MESSAGES" / f"{DOMAIN}.po"


@cache
def translations(language: str) -> gettext.NullTranslations:
    """The message catalog of `language`, compiled in memory from its .po file; English (the
    source language) and a language without a catalog translate nothing."""
    path = catalog_path(language)
    if language == SOURCE_LANGUAGE or not path.exists():
        return gettext.NullTranslations()
    with path.open("rb") as handle:
        catalog = read_po(handle, locale=language, domain=DOMAIN)
    buffer = BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    return gettext.GNUTranslations(buffer)


def _(message: str, language: str | None = None, **params: object) -> str:
    """`message` in the current language (or `language`), its placeholders filled."""
    text = translations(language or current_language()).gettext(message)
    return text.format(**params) if params else text


def ngettext(singular: str, plural: str, n: int, language: str | None = None, **params) -> str:
    text = translations(language or current_language()).ngettext(singular, plural, n)
    return text.format(n=n, **params)


# --- stored English messages, shown in the reader's language ----------------------------------

_PLACEHOLDER = re.compile(r"\{(\w+)(?:![rsa])?(?::[^}]*)?\}")
_CONVERSION = re.compile(r"\{(\w+)(?:![rsa])?(?::[^}]*)?(?=\})")


def _template_pattern(msgid: str) -> re.Pattern | None:
    if not _PLACEHOLDER.search(msgid):
        return None
    parts, last, names = [], 0, set()
    for found in _PLACEHOLDER.finditer(msgid):
        parts.append(re.escape(msgid[last : found.start()]))
        name = found[1]
        # a repr'd argument ({x!r}) is one quoted string, nothing around it
        value = r"'[^']*'|\"[^\"]*\"" if "!r" in found[0] else ".+?"
        parts.append(f"(?P={name})" if name in names else f"(?P<{name}>{value})")
        names.add(name)
        last = found.end()
    parts.append(re.escape(msgid[last:]))
    return re.compile("".join(parts), re.S)


@cache
def _templates(language: str) -> tuple[dict[str, str], list[tuple[int, re.Pattern, str]]]:
    """The catalog's messages: plain ones by text, templates as patterns (longest literal
    text first, so the most specific template wins)."""
    catalog = translations(language)
    plain: dict[str, str] = {}
    patterns = []
    for msgid, msgstr in getattr(catalog, "_catalog", {}).items():
        if not isinstance(msgid, str) or not msgid or not msgstr:
            continue
        pattern = _template_pattern(msgid)
        if pattern is None:
            plain[msgid] = msgstr
        elif re.search(r"[^\W\d_]{3,}", _PLACEHOLDER.sub("", msgid)):
            # a template with words of its own; "{series}, {period}" would match any text
            literal = len(_PLACEHOLDER.sub("", msgid))
            patterns.append((literal, pattern, msgstr))
    patterns.sort(key=lambda item: -item[0])
    return plain, patterns


_NUMBER = re.compile(r"-?(?:\d+\.\d+|\d{5,})(?:e[+-]?\d+)?|-?\d+(?:\.\d+)?e[+-]?\d+")


def _number_as_read(text: str | None, language: str) -> str | None:
    """A number argument written the reader's way (2 058 821, 1 568,6 in French); years and
    other short whole numbers stay as they are."""
    if not text or not _NUMBER.fullmatch(text):
        return None
    value = float(text)
    decimals = 0 if value.is_integer() else min(6, max(1, 6 - len(str(int(abs(value))))))
    return format_decimal(
        round(value, decimals),
        format="#,##0." + "#" * decimals if decimals else "#,##0",
        locale=babel_locale(language),
    )


def localise(text: str | None, language: str | None = None, depth: int = 0) -> str | None:
    """A stored English message in `language`: recognised by its template, its arguments
    (themselves messages, sometimes) put back in place. Text no template matches is returned
    unchanged; "a; b" is localised part by part."""
    if not text or not isinstance(text, str):
        return text
    language = language or current_language()
    if language == SOURCE_LANGUAGE or depth > 3:
        return text
    return _localised(text, language, depth)


@lru_cache(maxsize=65536)
def _localised(text: str, language: str, depth: int) -> str:
    """`localise` once per text and language: a site or a report asks for the same source
    names and notes thousands of times, and each miss tries every template."""
    plain, patterns = _templates(language)
    if text in plain:
        return plain[text]
    for _literal, pattern, msgstr in patterns:
        found = pattern.fullmatch(text)
        if found:
            args = {
                k: _number_as_read(v, language) or localise(v, language, depth + 1)
                for k, v in found.groupdict().items()
            }
            try:  # the arguments were converted (!r) when the English text was written
                return _CONVERSION.sub(r"{\1", msgstr).format(**args)
            except (KeyError, IndexError, ValueError):
                return text
    if "; " in text:
        return "; ".join(localise(part, language, depth + 1) or part for part in text.split("; "))
    return text


# --- numbers and dates -------------------------------------------------------------------------


@cache
def babel_locale(language: str, country_alpha2: str | None = None) -> Locale:
    """The CLDR locale for a language in a country (fr_MA, ar_MA, ro_MD), so numbers are
    written as that country writes them (Latin digits in Morocco); the language alone when
    CLDR has no such pair."""
    for candidate in (f"{language}_{country_alpha2}" if country_alpha2 else None, language):
        if not candidate:
            continue
        try:
            return Locale.parse(candidate)
        except (UnknownLocaleError, ValueError):
            continue
    return Locale.parse(SOURCE_LANGUAGE)


def format_number(
    value: float | int | None, language: str, decimals: int = 0, country: str | None = None
) -> str:
    """12 345,6 in French, 12,345.6 in English; '–' for no value."""
    if value is None or value != value:
        return "–"
    pattern = "#,##0" + ("." + "0" * decimals if decimals else "")
    return format_decimal(
        round(float(value), decimals), format=pattern, locale=babel_locale(language, country)
    )


def format_share(value: float | None, language: str, country: str | None = None) -> str:
    """A share as a percentage the reader's way: 41 % in French, 41% in English."""
    if value is None or value != value:
        return "–"
    return format_percent(value, locale=babel_locale(language, country))


def format_day(value: date | datetime | str, language: str, country: str | None = None) -> str:
    """23 novembre 2026; a string is read as an ISO date (or date-time)."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, datetime):
        value = value.date()
    return _format_date(value, format="long", locale=babel_locale(language, country))


def text_direction(language: str) -> str:
    return "rtl" if language in RIGHT_TO_LEFT else "ltr"
