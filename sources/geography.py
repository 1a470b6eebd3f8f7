"""Country identity: ISO 3166-1 alpha-3 inside, M49 numeric carried along. Never join on names."""

from __future__ import annotations

import csv
import gettext
import unicodedata
from datetime import date
from functools import cache
from pathlib import Path

import pandas as pd
import pycountry

REFERENCE_DIR = Path(__file__).parent / "reference"


class UnknownAreaError(ValueError):
    """A publisher's label or code has no entry in the declared reference tables."""


@cache
def areas() -> pd.DataFrame:
    """Every area EMP knows: ISO 3166-1 countries (pycountry) plus declared extras.

    Columns: code (ISO3 or declared code), m49 (Int64), name, kind ('country' or 'other').
    """
    rows = [
        {"code": c.alpha_3, "m49": int(c.numeric), "name": c.name, "kind": "country"}
        for c in pycountry.countries
    ]
    current = {row["code"] for row in rows}
    for former in pycountry.historic_countries:  # ISO 3166-3, for data about dissolved states
        if former.alpha_3 not in current:
            current.add(former.alpha_3)
            rows.append(
                {"code": former.alpha_3, "m49": None, "name": former.name, "kind": "former"}
            )
    with open(REFERENCE_DIR / "extra_areas.csv", newline="", encoding="utf-8") as fh:
        for rec in csv.DictReader(fh):
            m49 = int(rec["m49"]) if rec["m49"] else None
            rows.append({"code": rec["code"], "m49": m49, "name": rec["name"], "kind": rec["kind"]})
    frame = pd.DataFrame(rows)
    frame["m49"] = frame["m49"].astype("Int64")
    return frame


@cache
def _m49_to_code() -> dict[int, str]:
    table = areas().dropna(subset=["m49"])
    return {int(m): c for m, c in zip(table["m49"], table["code"], strict=True)}


@cache
def country_codes() -> frozenset[str]:
    """Codes of areas that are countries (or country-like territories)."""
    table = areas()
    return frozenset(table.loc[table["kind"] == "country", "code"])


@cache
def known_codes() -> frozenset[str]:
    """Country codes plus declared non-country codes (UNHCR's unknown origin, stateless...)."""
    return frozenset(areas()["code"])


def code_from_m49(m49: int) -> str | None:
    """ISO3 (or declared) code for an M49 numeric country code; None for aggregates."""
    return _m49_to_code().get(int(m49))


def m49_from_code(code: str) -> int | None:
    """M49 numeric code for an area code, for SDMX export."""
    match = areas().loc[areas()["code"] == code, "m49"]
    return None if match.empty or pd.isna(match.iloc[0]) else int(match.iloc[0])


@cache
def world_bank_labels() -> dict[str, tuple[str, str]]:
    """World Bank matrix labels -> (code, kind), from the declared crosswalk.

    kind is 'country', 'aggregate' (Other North/South) or 'total' (World).
    """
    with open(REFERENCE_DIR / "world_bank_labels.csv", newline="", encoding="utf-8") as fh:
        return {r["label"]: (r["code"], r["kind"]) for r in csv.DictReader(fh)}


def code_from_world_bank_label(label: str) -> tuple[str, str]:
    """Look a World Bank bilateral-matrix label up in the declared crosswalk."""
    try:
        return world_bank_labels()[label]
    except KeyError:
        raise UnknownAreaError(
            f"World Bank label {label!r} is not in {REFERENCE_DIR / 'world_bank_labels.csv'}; "
            "add it with its ISO3 code"
        ) from None


def normalise_label(label: str) -> str:
    """Case, accents, cedillas, apostrophes and spacing folded away, for matching labels."""
    text = unicodedata.normalize("NFKD", str(label).replace("’", "'"))
    text = "".join(ch for ch in text if not unicodedata.combining(ch))
    return " ".join(text.casefold().split())


@cache
def country_names(language: str) -> dict[str, str]:
    """Normalised country names in `language` (pycountry's ISO 3166 translations) -> ISO3.

    Inverted official forms are added too: 'Moldova, République de' -> 'République de Moldova'.
    """
    translate = (
        gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language]).gettext
        if language != "en"
        else (lambda text: text)
    )
    names: dict[str, str] = {}
    for country in pycountry.countries:
        for attribute in ("name", "common_name", "official_name"):
            english = getattr(country, attribute, None)
            if not english:
                continue
            for text in {english, translate(english)}:
                names.setdefault(normalise_label(text), country.alpha_3)
                if ", " in text:
                    head, tail = text.split(", ", 1)
                    names.setdefault(normalise_label(f"{tail} {head}"), country.alpha_3)
                    names.setdefault(normalise_label(head), country.alpha_3)
    for former in pycountry.historic_countries:  # ISO 3166-3: Netherlands Antilles, USSR...
        if len(former.alpha_3) == 3 and former.alpha_3 in known_codes():
            names.setdefault(normalise_label(former.name), former.alpha_3)
    return names


#: Start of Morocco's 12 regions (Decree 2-15-40 of 20 February 2015); ISO 3166-2 reuses the
#: codes MA-01..MA-12 of the 16 former regions for different areas, hence validity dates.
MOROCCO_REGIONS_2015 = date(2015, 2, 20)
SUBNATIONAL_COUNTRIES = ("MAR", "MDA", "PHL")


@cache
def admin_areas() -> pd.DataFrame:
    """Sub-national areas with validity dates: ISO 3166-2 (pycountry) plus the declared former
    regions and statistics-office regions (sources/reference/admin_areas_declared.csv), with
    the parents the law gives where ISO's differ (sources/reference/admin_area_parents.csv).

    Columns: code, country, level, name, parent_code, valid_from, valid_to, source,
    successors (codes of the areas that replaced it), members (codes of the areas it groups).
    """
    rows = []
    for iso3 in SUBNATIONAL_COUNTRIES:
        alpha2 = pycountry.countries.get(alpha_3=iso3).alpha_2
        for sub in pycountry.subdivisions.get(country_code=alpha2):
            level = sub.type.lower().replace(" ", "_")
            rows.append(
                {
                    "code": sub.code,
                    "country": iso3,
                    "level": level,
                    "name": sub.name,
                    "parent_code": sub.parent_code,
                    "valid_from": MOROCCO_REGIONS_2015
                    if sub.code[:3] == "MA-" and level == "region"
                    else None,
                    "valid_to": None,
                    "source": "ISO 3166-2 (pycountry)",
                    "successors": [],
                    "members": [],
                }
            )
    validity = pd.read_csv(
        REFERENCE_DIR / "admin_area_validity.csv", dtype=str, keep_default_na=False
    )
    for rec in validity.to_dict(orient="records"):  # ISO codes of areas created or abolished
        for row in rows:
            if row["code"] == rec["code"]:
                row["valid_from"] = _day(rec["valid_from"]) or row["valid_from"]
                row["valid_to"] = _day(rec["valid_to"]) or row["valid_to"]
    parents = pd.read_csv(REFERENCE_DIR / "admin_area_parents.csv", dtype=str)
    corrected = dict(zip(parents["code"], parents["parent_code"], strict=True))
    for row in rows:  # where ISO 3166-2 (as pycountry has it) puts an area in the wrong region
        row["parent_code"] = corrected.get(row["code"], row["parent_code"])
    declared = pd.read_csv(
        REFERENCE_DIR / "admin_areas_declared.csv", dtype=str, keep_default_na=False
    )
    for rec in declared.to_dict(orient="records"):
        rows.append(
            {
                "code": rec["code"],
                "country": rec["country"],
                "level": rec["level"],
                "name": rec["name"],
                "parent_code": None,
                "valid_from": date.fromisoformat(rec["valid_from"]) if rec["valid_from"] else None,
                "valid_to": date.fromisoformat(rec["valid_to"]) if rec["valid_to"] else None,
                "source": rec["source"],
                "successors": [c for c in rec["successors"].split(";") if c],
                "members": [c for c in rec["members"].split(";") if c],
            }
        )
    return pd.DataFrame(rows)


def _day(text: str) -> date | None:
    return date.fromisoformat(text) if text else None


def area_valid_on(code: str, on: date) -> str:
    """The code of the area `code` stood for on `on`: itself if it was valid then, else the
    area it was carved out of (a series back-cast to today's regions is mapped back to the
    regions of its time). A code unknown as a sub-national area is returned as it is."""
    if admin_area_on(code, on) is not None or code not in admin_codes():
        return code
    table = admin_areas()
    for rec in table.to_dict(orient="records"):
        starts, ends = rec["valid_from"], rec["valid_to"]
        valid = (starts is None or starts <= on) and (ends is None or on <= ends)
        if valid and code in rec["successors"]:
            return rec["code"]
    return code


@cache
def _admin_records() -> dict[str, list[dict]]:
    """Each code's areas (a reused code has several, with their validity dates)."""
    found: dict[str, list[dict]] = {}
    for rec in admin_areas().to_dict(orient="records"):
        found.setdefault(rec["code"], []).append(rec)
    return found


def admin_area_on(code: str, on: date) -> dict | None:
    """The area a code meant on a date (None if the code was not valid then)."""
    for rec in _admin_records().get(code, []):
        starts, ends = rec["valid_from"], rec["valid_to"]
        if (starts is None or starts <= on) and (ends is None or on <= ends):
            return rec
    return None


def current_codes(code: str, on: date) -> list[str]:
    """The codes in use today for what `code` meant on `on` (its successors if it was replaced)."""
    area = admin_area_on(code, on)
    if area is None:
        return []
    return list(area["successors"]) or [code]


@cache
def admin_codes() -> frozenset[str]:
    """Every sub-national code EMP knows (any validity period)."""
    return frozenset(admin_areas()["code"])


def profile_areas(country: str) -> list[str]:
    """The areas of a country's profile: the country and its sub-national areas."""
    table = admin_areas()
    return [country, *sorted(set(table.loc[table["country"] == country, "code"]))]
