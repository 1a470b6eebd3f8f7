"""Sources by the names their publishers and offices give them, never by internal ids."""

from __future__ import annotations

from functools import cache

from sources.census.codebook import census_source_id, codebooks
from sources.i18n import N_
from sources.publishers.registry import series_by_id
from sources.specs import spec_set

CENSUS_LABEL = N_("Population census {round}")


@cache
def _labels() -> dict[str, str]:
    labels = {sid: f"{s.publisher}: {s.title}" for sid, s in series_by_id().items()}
    for spec_id, spec in spec_set(None).specs.items():
        labels[spec_id] = f"{spec.ministry_name}: {spec.dataset}"
    for codebook in codebooks().values():
        labels[census_source_id(codebook)] = codebook_title(codebook)
    return labels


def codebook_title(codebook) -> str:
    return CENSUS_LABEL.format(round=codebook.census_round)


def source_label(source_id: str, language: str | None = None) -> str:
    """'UN DESA Population Division: International Migrant Stock' for un_desa_ims; the id
    itself for a source EMP has no name for."""
    from sources.i18n import localise

    return localise(_labels().get(source_id, source_id), language) or source_id


@cache
def _countries() -> dict[str, str]:
    countries = {spec_id: spec.country for spec_id, spec in spec_set(None).specs.items()}
    for codebook in codebooks().values():
        countries[census_source_id(codebook)] = codebook.country
    return countries


def source_covers(source_id: str, country: str) -> bool:
    """Whether a source can give values for `country`: a ministry's file or a census covers
    its own country, a publisher's release (or a spec for every country, `*`) every country."""
    return _countries().get(source_id, "*") in ("*", country)


@cache
def _collections() -> dict[str, str]:
    found = {sid: s.collection for sid, s in series_by_id().items()}
    for spec_id, spec in spec_set(None).specs.items():
        found[spec_id] = spec.collection
    for codebook in codebooks().values():
        found[census_source_id(codebook)] = "census"
    return found


def source_collection(source_id: str) -> str:
    """How a source's figures were made: estimate, survey, administrative or census (a
    publisher's series, a ministry's spec or a census codebook says; `unknown` otherwise)."""
    return _collections().get(source_id, "unknown")
