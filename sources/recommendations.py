"""Part D's recommendations: what the working group recommends to close a data gap or improve a
figure, kept as data, one YAML file per country (bundled in sources/recommendations/, or the
working group's own in the folder EMP_RECOMMENDATIONS names, which take precedence). Each names
the indicators it answers, so Part D shows it beside the gaps it is about."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field

from sources.i18n import N_
from sources.registers import register_entries, register_file

BUNDLED_DIR = Path(__file__).parent / "recommendations"
STATUSES = {
    "proposed": N_("proposed"),
    "agreed": N_("agreed by the working group"),
    "in_progress": N_("in progress"),
    "done": N_("done"),
}


class RecommendationError(ValueError):
    """A recommendations file that cannot be read, naming the file and the entry."""


class Recommendation(BaseModel):
    topic: dict[str, str] = Field(min_length=1)  # language -> topic
    text: dict[str, str] = Field(min_length=1)  # language -> recommendation
    status: Literal["proposed", "agreed", "in_progress", "done"]
    answers: list[str] = Field(default_factory=list)  # catalogue indicator ids
    by: str | None = None  # the ministry or office it falls to

    def in_language(self, field: str, language: str) -> tuple[str, str]:
        """The topic or text in `language` where written, else in its first language, with
        the language it is in."""
        texts = getattr(self, field)
        if texts.get(language):
            return texts[language], language
        original = next(iter(texts))
        return texts[original], original


def recommendations_file(country: str) -> Path | None:
    return register_file(country, BUNDLED_DIR, "EMP_RECOMMENDATIONS")


def recommendations(country: str) -> list[Recommendation]:
    """The country's registered recommendations, in the order written."""
    return register_entries(
        recommendations_file(country),
        "recommendations",
        Recommendation,
        RecommendationError,
        "recommendation",
    )
