"""Part C of a profile: the migration governance registry a working group keeps as data, one
YAML file per country (bundled in sources/governance/, or the working group's own in the folder
EMP_GOVERNANCE names, which take precedence)."""

from __future__ import annotations

from datetime import date
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, field_validator

from sources.i18n import N_
from sources.registers import register_entries, register_file

BUNDLED_DIR = Path(__file__).parent / "governance"
#: The kinds of entry, and their statuses, in words (translated where shown).
KINDS = {
    "policy": N_("Policy or strategy"),
    "law": N_("Law or regulation"),
    "institution": N_("Institution"),
    "bilateral_agreement": N_("Bilateral agreement"),
    "multilateral_agreement": N_("Multilateral agreement"),
}
STATUSES = {
    "draft": N_("draft"),
    "adopted": N_("adopted"),
    "in_force": N_("in force"),
    "expired": N_("expired"),
    "repealed": N_("repealed"),
}


class GovernanceError(ValueError):
    """A governance file that cannot be read, naming the file and the entry."""


class Entry(BaseModel):
    kind: Literal["policy", "law", "institution", "bilateral_agreement", "multilateral_agreement"]
    title: dict[str, str] = Field(min_length=1)  # language -> title
    date: date
    status: Literal["draft", "adopted", "in_force", "expired", "repealed"]
    source: str = Field(min_length=3)  # the public source that states it
    url: str | None = None
    partners: list[str] = Field(default_factory=list)  # ISO3 of the other parties

    @field_validator("url")
    @classmethod
    def _web_address(cls, value: str | None) -> str | None:
        if value and not value.startswith(("https://", "http://")):
            raise ValueError("a url starts with https:// or http://")
        return value

    def title_in(self, language: str) -> str:
        return self.title_for(language)[0]

    def title_for(self, language: str) -> tuple[str, str]:
        """The title in `language` where registered, else the original (the first given),
        with the language it is in."""
        if self.title.get(language):
            return self.title[language], language
        original = next(iter(self.title))
        return self.title[original], original


def governance_file(country: str) -> Path | None:
    return register_file(country, BUNDLED_DIR, "EMP_GOVERNANCE")


def governance_entries(country: str) -> list[Entry]:
    """The country's registered entries, oldest first; none when nothing is registered."""
    entries = register_entries(governance_file(country), "entries", Entry, GovernanceError, "entry")
    return sorted(entries, key=lambda e: e.date)
