"""The site's two status pages, as Open SDG has them, computed from published editions only.

Reporting status: per country and catalogue indicator, whether the edition publishes it
(`published`: a national value for every series), `partly` (some values, not every series, or
values only by area or partner country), `held_back` (no value, and a source it is computed from
was held back) or `gap` (no value). Disaggregation status: per country and indicator, how many
of the breakdowns the catalogue asks for (sex, age, area, partner country...) the edition gives.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass

import pandas as pd

from indicators.catalogue import Indicator
from sources.i18n import N_

PUBLISHED, PARTLY, HELD_BACK, GAP = "published", "partly", "held_back", "gap"
REPORTING_STATUSES = {
    PUBLISHED: N_("published"),
    PARTLY: N_("partly published"),
    HELD_BACK: N_("held back"),
    GAP: N_("data gap"),
}
COMPLETE, SOME, NONE, NOT_ASKED = "complete", "some", "none", "not_asked"
DISAGGREGATION_STATUSES = {
    COMPLETE: N_("every breakdown asked for"),
    SOME: N_("some breakdowns"),
    NONE: N_("no breakdown yet"),
    GAP: N_("data gap"),
    NOT_ASKED: N_("no breakdown asked for"),
}
DIMENSIONS = {
    "sex": N_("sex"),
    "age": N_("age"),
    "ref_area": N_("region or province"),
    "counterpart_area": N_("partner country"),
    "migrant_status": N_("migrant status"),
    "breakdown": N_("category"),
}


@dataclass(frozen=True)
class IndicatorStatus:
    indicator_id: str
    reporting: str
    disaggregation: str
    given: tuple[str, ...]  # the breakdowns asked for that the edition gives
    missing: tuple[str, ...]  # those it does not


def _with_values(rows: pd.DataFrame) -> pd.DataFrame:
    return rows[rows["obs_value"].notna() & (rows["conf_status"].fillna("F") != "C")]


def _held_back_sources(manifest: dict) -> set[str]:
    held = manifest.get("validation", {}).get("held_back", [])
    return {h["source_id"] for h in held if h.get("source_id")}


def reporting_status(indicator: Indicator, rows: pd.DataFrame, country: str, held: set[str]) -> str:
    """published, partly, held_back or gap, for one indicator's rows of one country's edition."""
    valued = _with_values(rows)
    if valued.empty:
        return HELD_BACK if held & set(indicator.sources) else GAP
    national = valued[
        (valued["ref_area"] == country)
        & (valued["counterpart_area"] == "_T")
        & (valued["sex"] == "_T")
        & (valued["breakdown"] == "_T")
    ]
    expected = set(indicator.series) or set(valued["series"])
    if national.empty or not expected <= set(national["series"]):
        return PARTLY
    return PUBLISHED


def given_breakdowns(indicator: Indicator, rows: pd.DataFrame, country: str) -> tuple[str, ...]:
    """The breakdowns the catalogue asks for that hold at least one value."""
    valued = _with_values(rows)
    given = []
    for dimension in indicator.disaggregations:
        if dimension == "ref_area":
            present = (valued["ref_area"] != country).any()
        elif dimension in valued:
            present = (valued[dimension].fillna("_T") != "_T").any()
        else:
            present = False
        if present:
            given.append(dimension)
    return tuple(given)


def edition_statuses(
    catalogue: list[Indicator], frame: pd.DataFrame, manifest: dict
) -> list[IndicatorStatus]:
    """Every catalogue indicator's reporting and disaggregation status in one edition."""
    country = manifest["profile"]
    held = _held_back_sources(manifest)
    by_indicator = dict(list(frame.groupby("indicator_id", sort=False)))
    found = []
    for indicator in catalogue:
        rows = by_indicator.get(indicator.id, frame.iloc[0:0])
        reporting = reporting_status(indicator, rows, country, held)
        given = given_breakdowns(indicator, rows, country)
        missing = tuple(d for d in indicator.disaggregations if d not in given)
        if reporting in (GAP, HELD_BACK):
            disaggregation = GAP
        elif not indicator.disaggregations:
            disaggregation = NOT_ASKED
        elif not missing:
            disaggregation = COMPLETE
        else:
            disaggregation = SOME if given else NONE
        found.append(IndicatorStatus(indicator.id, reporting, disaggregation, given, missing))
    return found


def counts(statuses: list[IndicatorStatus], field: str, order: dict) -> list[dict]:
    """How many indicators have each status, and their share of all (percent, one decimal)."""
    tally = Counter(getattr(s, field) for s in statuses)
    total = len(statuses) or 1
    return [
        {"status": key, "count": tally.get(key, 0), "share": 100 * tally.get(key, 0) / total}
        for key in order
    ]
