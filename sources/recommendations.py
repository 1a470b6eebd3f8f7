"""Part D's recommendations: what the working group recommends to close a data gap or improve a
figure, kept as data, one YAML file per country (bundled in sources/recommendations/, or the
working group's own in the folder EMP_RECOMMENDATIONS names, which take precedence). Each names
the indicators it answers, so Part D shows it beside the gaps it is about."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, Field, ValidationError

from sources.i18n import N_
from sources.yaml_files import read_yaml

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
    own = os.environ.get("EMP_RECOMMENDATIONS", "").strip()
    for folder in ([Path(own).expanduser()] if own else []) + [BUNDLED_DIR]:
        path = folder / f"{country}.yaml"
        if path.exists():
            return path
    return None


def recommendations(country: str) -> list[Recommendation]:
    """The country's registered recommendations, in the order written."""
    path = recommendations_file(country)
    if path is None:
        return []
    try:
        document = read_yaml(path) or {}
    except (OSError, yaml.YAMLError) as err:
        raise RecommendationError(f"{path}: not readable as YAML: {err}") from None
    found = []
    for number, raw in enumerate(document.get("recommendations") or [], start=1):
        try:
            found.append(Recommendation.model_validate(raw))
        except ValidationError as err:
            problems = "; ".join(
                f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors()
            )
            raise RecommendationError(f"{path}, recommendation {number}: {problems}") from None
    return found
