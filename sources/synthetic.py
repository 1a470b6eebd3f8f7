"""Which sources are synthetic (generated samples standing in for files a working group has not
sent yet), so that no value from them can pass for real data."""

from __future__ import annotations

from collections.abc import Mapping

from sources.census.codebook import census_source_id, codebooks
from sources.specs import SourceSpec


def synthetic_sources(specs: Mapping[str, SourceSpec]) -> frozenset[str]:
    """The source ids of the specs and census codebooks that declare `synthetic: true`."""
    found = {spec_id for spec_id, spec in specs.items() if spec.synthetic}
    found |= {census_source_id(cb) for cb in codebooks().values() if cb.synthetic}
    return frozenset(found)
