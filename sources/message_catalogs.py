"""Keeping the message catalogs in step with the code: extract every marked message (Python and
the report templates) with Babel, update each language's .po file, and list what is missing."""

from __future__ import annotations

from pathlib import Path

from babel.messages.catalog import Catalog
from babel.messages.extract import extract_from_dir
from babel.messages.pofile import read_po, write_po

from sources.i18n import DOMAIN, LANGUAGES, LOCALE_DIR, SOURCE_LANGUAGE, catalog_path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PACKAGES = ("sources", "warehouse", "indicators", "publish", "pipelines")
METHOD_MAP = [("**.py", "python"), ("**/templates/**.j2", "jinja2.ext:babel_extract")]
OPTIONS_MAP = {"**/templates/**.j2": {"extensions": "jinja2.ext.i18n"}}
KEYWORDS = {"_": None, "N_": None, "t": None, "ngettext": (1, 2)}


def extract_messages(root: Path = PROJECT_ROOT) -> Catalog:
    """Every marked message of the code, as a template catalog."""
    template = Catalog(domain=DOMAIN, project="EMP", charset="utf-8")
    for package in PACKAGES:
        for filename, lineno, message, comments, context in extract_from_dir(
            root / package,
            method_map=METHOD_MAP,
            options_map=OPTIONS_MAP,
            keywords=KEYWORDS,
            strip_comment_tags=True,
        ):
            template.add(
                message,
                None,
                [(f"{package}/{filename}", lineno)],
                auto_comments=comments,
                context=context,
            )
    return template


def read_catalog(language: str) -> Catalog:
    path = catalog_path(language)
    if not path.exists():
        return Catalog(locale=language, domain=DOMAIN)
    with path.open("rb") as handle:
        return read_po(handle, locale=language, domain=DOMAIN)


def update_catalogs(root: Path = PROJECT_ROOT) -> dict[str, int]:
    """Write emp.pot and merge it into each language's .po (new messages untranslated, gone ones
    kept as obsolete); return the number of untranslated messages per language."""
    template = extract_messages(root)
    LOCALE_DIR.mkdir(parents=True, exist_ok=True)
    with (LOCALE_DIR / f"{DOMAIN}.pot").open("wb") as handle:
        write_po(handle, template, width=100, omit_header=False, sort_output=True)
    untranslated = {}
    for language in LANGUAGES:
        if language == SOURCE_LANGUAGE:
            continue
        catalog = read_catalog(language)
        catalog.update(template, update_header_comment=False)
        path = catalog_path(language)
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("wb") as handle:
            write_po(handle, catalog, width=100, sort_output=True, ignore_obsolete=True)
        untranslated[language] = len(missing_messages(language, template))
    return untranslated


def _translated(message) -> bool:
    if message.fuzzy:
        return False
    if isinstance(message.string, (list, tuple)):
        return all(message.string)
    return bool(message.string)


def missing_messages(language: str, template: Catalog | None = None) -> list[str]:
    """The code's messages `language` has no (or only a fuzzy) translation for."""
    if language == SOURCE_LANGUAGE:
        return []
    template = template or extract_messages()
    catalog = read_catalog(language)
    missing = []
    for message in template:
        if not message.id:
            continue
        found = catalog.get(message.id, context=message.context)
        if found is None or not _translated(found):
            key = message.id[0] if isinstance(message.id, (list, tuple)) else message.id
            where = message.locations[0] if message.locations else ("?", 0)
            missing.append(
                f"{catalog_path(language).relative_to(PROJECT_ROOT)}: {key!r} "
                f"({where[0]}:{where[1]})"
            )
    return missing
