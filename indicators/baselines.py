"""Impact-assessment baselines: for a project or policy, the value of each requested indicator in
each intervention and comparison area at the latest period on or before the start date (within a
window), a difference-in-differences panel, and the logframe's own baselines beside the profile's.

Everything here works on an indicator table shaped like `marts.indicators` (or a snapshot's
`indicators.parquet`), so a baseline can be rebuilt from a published snapshot alone.
"""

from __future__ import annotations

import calendar
from datetime import date
from functools import lru_cache
from itertools import product
from pathlib import Path
from typing import Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from indicators.census import age_as_total
from indicators.evaluation import PERIOD_PATTERN, add_event_time, add_rates
from sources.data_home import BASELINE_REQUESTS_DIR
from sources.geography import admin_area_on, admin_areas
from sources.yaml_files import read_yaml

REQUESTS_DIR = BASELINE_REQUESTS_DIR
DEFAULT_WINDOW_YEARS = 5
DEFAULT_TOLERANCE_PCT = 5.0

#: Area levels that count as the same tier when comparison areas are "every other area".
TIERS = {
    "country": "national",
    "region": "first",
    "development_region": "first",
    "province": "second",
    "prefecture": "second",
    "district": "second",
    "city": "second",
    "autonomous_territorial_unit": "second",
    "territorial_unit": "second",
}

BASELINE_COLUMNS = [
    "request_id",
    "project",
    "indicator_id",
    "series",
    "ref_area",
    "area_name",
    "area_level",
    "role",
    "sex",
    "age",
    "migrant_status",
    "counterpart_area",
    "breakdown",
    "start_date",
    "window_from",
    "status",
    "time_period",
    "obs_value",
    "unit_measure",
    "source_ids",
    "source_vintages",
    "basis",
    "obs_status",
    "conf_status",
    "suppression",
    "computed",
    "std_error",
    "ci_low",
    "ci_high",
    "uncertainty",
    "reason",
]
PANEL_COLUMNS = [
    "request_id",
    "indicator_id",
    "series",
    "ref_area",
    "area_name",
    "area_level",
    "area_valid_from",
    "area_valid_to",
    "area_valid",
    "role",
    "treated",
    "sex",
    "age",
    "migrant_status",
    "time_period",
    "period_end",
    "post",
    "first_treated",
    "event_time",
    "status",
    "obs_value",
    "unit_measure",
    "population",
    "population_source",
    "rate_per_1000",
    "obs_status",
    "conf_status",
    "suppression",
    "computed",
    "base_count",
    "weight_sum",
    "std_error",
    "ci_low",
    "ci_high",
    "synthetic",
    "reason",
]
PRETREND_COLUMNS = [
    "request_id",
    "indicator_id",
    "series",
    "sex",
    "age",
    "migrant_status",
    "unit_measure",
    "time_period",
    "intervention_mean",
    "comparison_mean",
    "difference",
    "intervention_areas",
    "comparison_areas",
]
#: z for a 95 % confidence interval.
Z95 = 1.959963984540054
RECONCILIATION_COLUMNS = [
    "request_id",
    "project",
    "logframe_indicator",
    "indicator_id",
    "series",
    "ref_area",
    "sex",
    "logframe_date",
    "logframe_value",
    "profile_period",
    "profile_value",
    "difference",
    "difference_pct",
    "tolerance_pct",
    "status",
    "reason",
]


#: Logframe units -> SDMX unit codes, to compare a logframe baseline with the same series.
LOGFRAME_UNITS = {"USD": "USD", "persons": "PS", "%": "PT", "households": "HH"}


class BaselineRequestError(ValueError):
    """A baseline request is malformed or names unknown indicators or areas."""


class IndicatorChoice(BaseModel):
    """One requested indicator; each dimension lists the codes wanted (`_T` = total)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str
    series: list[str] | None = None  # every series of the indicator when omitted
    sex: list[str] = ["_T"]
    age: list[str] = ["_T"]
    migrant_status: list[str] = ["_T"]
    counterpart_area: list[str] = ["_T"]
    breakdown: list[str] = ["_T"]
    logframe_indicator: str | None = None  # the logframe row reporting its own baseline


class BaselineRequest(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$")
    project: str | None = None  # a JMDI registry code
    policy: str | None = None
    title: str = ""
    country: str = Field(pattern=r"^[A-Z]{3}$")
    indicators: list[IndicatorChoice]
    intervention_areas: list[str] = Field(min_length=1)
    comparison_areas: list[str] | Literal["same_level"] = "same_level"
    start: date
    window_years: int = Field(DEFAULT_WINDOW_YEARS, ge=0, le=50)
    tolerance_pct: float = Field(DEFAULT_TOLERANCE_PCT, ge=0)
    logframe_baselines: list[dict] = Field(default_factory=list)  # filled from a logframe
    origin: str = "request file"
    note: str = ""

    @field_validator("indicators", mode="before")
    @classmethod
    def _plain_ids(cls, value):
        return [{"id": v} if isinstance(v, str) else v for v in value or []]

    @property
    def window_from(self) -> date:
        try:
            return self.start.replace(year=self.start.year - self.window_years)
        except ValueError:  # 29 February
            return self.start.replace(year=self.start.year - self.window_years, day=28)


def load_request(path: Path, known_indicators: set[str] | None = None) -> BaselineRequest:
    """Read and check one request YAML; every problem is listed with its place."""
    try:
        request = BaselineRequest.model_validate(read_yaml(path))
    except ValidationError as err:
        lines = [
            f"  {'.'.join(map(str, e['loc'])) or '(request)'}: {e['msg']}" for e in err.errors()
        ]
        raise BaselineRequestError(f"{path}:\n" + "\n".join(lines)) from None
    except yaml.YAMLError as err:
        raise BaselineRequestError(f"{path}: not valid YAML: {err}") from None
    problems = request_problems(request, known_indicators)
    if problems:
        raise BaselineRequestError(f"{path}:\n" + "\n".join(f"  {p}" for p in problems))
    return request


def request_problems(request: BaselineRequest, known_indicators: set[str] | None) -> list[str]:
    problems = []
    if known_indicators is not None:
        problems += [
            f"indicators: {c.id!r} is not in the catalogue"
            for c in request.indicators
            if c.id not in known_indicators
        ]
    listed = request.intervention_areas + (
        request.comparison_areas if isinstance(request.comparison_areas, list) else []
    )
    for code in listed:
        if code != request.country and admin_area_on(code, request.start) is None:
            problems.append(
                f"areas: {code!r} is not a {request.country} area in use on {request.start}"
            )
    return problems


def usable_requests(
    folder: Path = REQUESTS_DIR, known_indicators: set[str] | None = None
) -> tuple[list[BaselineRequest], list[tuple[str, str]]]:
    """The request files in `folder` that load, and (file, reason) for each that does not or
    shares its id with another: a broken request is held back alone, never the refresh."""
    loaded, held = [], []
    for path in sorted(Path(folder).glob("*.yaml")):
        try:
            loaded.append((path, load_request(path, known_indicators)))
        except BaselineRequestError as err:
            held.append((str(path), " ".join(str(err).split())))
    ids = [r.id for _, r in loaded]
    doubled = {i for i in ids if ids.count(i) > 1}
    held += [
        (str(p), f"{p}: request id {r.id!r} is used by another request file")
        for p, r in loaded
        if r.id in doubled
    ]
    return [r for _, r in loaded if r.id not in doubled], held


def registered_requests(
    folder: Path = REQUESTS_DIR, known_indicators: set[str] | None = None
) -> list[BaselineRequest]:
    """Every request YAML in `folder` (ids must be unique)."""
    requests = [load_request(p, known_indicators) for p in sorted(Path(folder).glob("*.yaml"))]
    seen: dict[str, int] = {}
    for r in requests:
        seen[r.id] = seen.get(r.id, 0) + 1
    doubled = sorted(i for i, n in seen.items() if n > 1)
    if doubled:
        raise BaselineRequestError(f"{folder}: request ids used twice: {doubled}")
    return requests


def requests_from_logframes(
    project_indicators: pd.DataFrame,
    project_values: pd.DataFrame,
    project_areas: pd.DataFrame,
    projects: pd.DataFrame,
) -> list[BaselineRequest]:
    """One request per project with a logframe report: its catalogue-linked indicators, its areas
    (today's codes), and its baseline date as the start."""
    found = []
    for code, rows in project_indicators.groupby("project_code"):
        values = project_values[
            (project_values["project_code"] == code) & (project_values["value_kind"] == "baseline")
        ]
        dates = pd.to_datetime(values["value_date"]).dropna()
        if dates.empty:
            continue
        start = dates.max().date()
        country = projects.loc[projects["project_code"] == code, "country"]
        if country.empty:
            continue
        areas = project_areas[project_areas["project_code"] == code]
        current = sorted({c for codes in areas["current_codes"] for c in codes})
        linked = rows[rows["linked_to_catalogue"].fillna(False).astype(bool)]
        choices, logframe = [], []
        for rec in linked.to_dict(orient="records"):
            choices.append(
                IndicatorChoice(
                    id=rec["emp_indicator_id"],
                    sex=[rec["sex"] or "_T"],
                    logframe_indicator=rec["indicator_code"],
                )
            )
            base = values[
                (values["indicator_code"] == rec["indicator_code"]) & (values["sex"] == rec["sex"])
            ]
            for b in base.to_dict(orient="records"):
                logframe.append(
                    {
                        "indicator_code": rec["indicator_code"],
                        "indicator_id": rec["emp_indicator_id"],
                        "sex": rec["sex"] or "_T",
                        "value_date": pd.Timestamp(b["value_date"]).date().isoformat(),
                        "value": b["value"],
                        "unit": rec["unit"],
                        "reporting_period": b["reporting_period"],
                    }
                )
        found.append(
            BaselineRequest(
                id=code,
                project=code,
                title=f"Baseline from the {code} logframe report",
                country=country.iloc[0],
                indicators=choices,
                intervention_areas=current or [country.iloc[0]],
                start=start,
                logframe_baselines=logframe,
                origin="logframe report",
            )
        )
    return found


def with_logframe(request: BaselineRequest, derived: dict[str, BaselineRequest]) -> BaselineRequest:
    """A registered project request gains its logframe's own baselines for reconciliation, and
    any logframe-linked indicator it did not list."""
    logframe = derived.get(request.project or "")
    if logframe is None:
        return request
    listed = {c.id for c in request.indicators}
    extra = [c for c in logframe.indicators if c.id not in listed]
    return request.model_copy(
        update={
            "indicators": [*request.indicators, *extra],
            "logframe_baselines": logframe.logframe_baselines,
        }
    )


def all_requests(registered: list[BaselineRequest], derived: list[BaselineRequest]):
    """Registered requests (with their logframe's baselines) plus one derived request for each
    project that has a logframe report but no registered request."""
    by_project = {r.project: r for r in derived}
    covered = {r.project for r in registered if r.project} | {r.id for r in registered}
    return [with_logframe(r, by_project) for r in registered] + [
        r for r in derived if r.project not in covered
    ]


@lru_cache(maxsize=4096)
def period_end(period: str) -> date | None:
    """The last day a period covers: 2019 -> 2019-12-31, 2019-Q2 -> 2019-06-30 (remembered:
    a baseline run asks for the same few hundred periods hundreds of thousands of times)."""
    match = PERIOD_PATTERN.match(str(period))
    if not match:
        return None
    year = int(match["y"])
    month = (
        int(match["q"]) * 3
        if match["q"]
        else int(match["s"]) * 6
        if match["s"]
        else int(match["m"])
        if match["m"]
        else 12
    )
    return date(year, month, calendar.monthrange(year, month)[1])


def request_areas(request: BaselineRequest) -> pd.DataFrame:
    """ref_area, area_name, area_level, role for the request: intervention, comparison, and the
    country itself (`national`) when it is not an intervention area."""
    table = admin_areas()
    rows = []

    def describe(code: str) -> tuple[str, str]:
        if code == request.country:
            return request.country, "country"
        area = admin_area_on(code, request.start)
        return (area["name"], area["level"]) if area else (code, "unknown")

    for code in request.intervention_areas:
        rows.append((code, *describe(code), "intervention"))
    if isinstance(request.comparison_areas, list):
        comparison = request.comparison_areas
    else:
        tiers = {TIERS.get(describe(c)[1]) for c in request.intervention_areas}
        valid = table[
            (table["country"] == request.country)
            & table["valid_from"].map(lambda d: d is None or pd.isna(d) or d <= request.start)
            & table["valid_to"].map(lambda d: d is None or pd.isna(d) or request.start <= d)
        ]
        comparison = sorted(
            c
            for c, level in zip(valid["code"], valid["level"], strict=True)
            if TIERS.get(level) in tiers and c not in request.intervention_areas
        )
    rows += [(code, *describe(code), "comparison") for code in comparison]
    if request.country not in request.intervention_areas:
        rows.append((request.country, *describe(request.country), "national"))
    return pd.DataFrame(rows, columns=["ref_area", "area_name", "area_level", "role"])


def _choice_rows(indicators: pd.DataFrame, choice: IndicatorChoice) -> pd.DataFrame:
    rows = indicators[indicators["indicator_id"] == choice.id]
    rows = rows.assign(age=age_as_total(rows["age"]))  # all ages a census rate covers
    if "preferred" in rows:
        rows = rows[rows["preferred"].fillna(True).astype(bool)]
    for dimension in ("sex", "age", "migrant_status", "counterpart_area", "breakdown"):
        rows = rows[rows[dimension].isin(getattr(choice, dimension))]
    if choice.series:
        rows = rows[rows["series"].isin(choice.series)]
    return rows


def _series_of(
    indicators: pd.DataFrame, choice: IndicatorChoice, areas: list[str] | None = None
) -> list[str]:
    """The series asked, or every series the indicator has in the request's areas."""
    if choice.series:
        return list(choice.series)
    rows = indicators[indicators["indicator_id"] == choice.id]
    local = rows[rows["ref_area"].isin(areas)] if areas else rows
    found = sorted(set(local["series"])) or sorted(set(rows["series"]))
    return found or [choice.id]


def baselines(indicators: pd.DataFrame, request: BaselineRequest) -> pd.DataFrame:
    """One row per indicator, series, area and breakdown asked: the value at the latest period on
    or before the start within the window, or an explicit `no_value` row saying why."""
    areas = request_areas(request)
    window_from = request.window_from
    frame = indicators.assign(period_end=indicators["time_period"].map(period_end))
    out = []
    base = {
        "request_id": request.id,
        "project": request.project or request.policy,
        "start_date": request.start,
        "window_from": window_from,
    }
    if not request.indicators:
        out.append(
            {
                **base,
                "status": "no_value",
                "reason": "the request names no indicator (no logframe indicator is linked to "
                "a catalogue indicator)",
            }
        )
    keys = ["series", "ref_area", "sex", "age", "migrant_status", "counterpart_area", "breakdown"]
    empty = frame.iloc[0:0]
    subnational = set(admin_areas().loc[lambda t: t["country"] == request.country, "code"])
    for choice in request.indicators:
        rows = _choice_rows(frame, choice)
        cells = {key: group for key, group in rows.groupby(keys, sort=False)}
        known_anywhere = (frame["indicator_id"] == choice.id).any()
        published = frame.loc[frame["indicator_id"] == choice.id, "ref_area"]
        # an indicator published for the nation only: one row per intervention area says so,
        # rather than one per comparison area too
        national_only = known_anywhere and not published.isin(subnational).any()
        wanted = areas[areas["role"] != "comparison"] if national_only else areas
        for series, area, sex, age, status, counterpart, breakdown in product(
            _series_of(frame, choice, list(areas["ref_area"])),
            wanted.to_dict(orient="records"),
            choice.sex,
            choice.age,
            choice.migrant_status,
            choice.counterpart_area,
            choice.breakdown,
        ):
            cell = {
                **base,
                "indicator_id": choice.id,
                "series": series,
                **area,
                "sex": sex,
                "age": age,
                "migrant_status": status,
                "counterpart_area": counterpart,
                "breakdown": breakdown,
            }
            key = (series, area["ref_area"], sex, age, status, counterpart, breakdown)
            out.append(_pick(cell, cells.get(key, empty), request, known_anywhere, frame))
    result = pd.DataFrame(out)
    for column in BASELINE_COLUMNS:
        if column not in result:
            result[column] = None
    return result[BASELINE_COLUMNS]


def _pick(
    cell: dict,
    candidates: pd.DataFrame,
    request: BaselineRequest,
    known_anywhere: bool,
    frame: pd.DataFrame,
) -> dict:
    """The baseline value of one cell, or the reason there is none."""
    if not known_anywhere:
        return {
            **cell,
            "status": "no_value",
            "reason": "the profile has no value for this indicator in any area or period",
        }
    if candidates.empty:
        levels = frame.loc[frame["indicator_id"] == cell["indicator_id"], "ref_area"]
        national_only = levels.str.len().eq(3).all()
        why = (
            "the indicator is published at national level only (no row is given for the "
            "comparison areas)"
            if national_only and cell["area_level"] != "country"
            else "the profile has no value for this area and breakdown in any period"
        )
        return {**cell, "status": "no_value", "reason": why}
    dated = candidates.dropna(subset=["period_end"])
    before = dated[dated["period_end"] <= request.start].sort_values("period_end")
    if before.empty:
        first = dated["time_period"].min() if not dated.empty else None
        return {
            **cell,
            "status": "no_value",
            "reason": f"no value on or before the start {request.start}; the earliest is {first}",
        }
    latest = before.iloc[-1]
    if latest["period_end"] < request.window_from:
        return {
            **cell,
            "status": "no_value",
            "time_period": latest["time_period"],
            "reason": f"the latest value before the start ({latest['time_period']}) is older "
            f"than the {request.window_years}-year window (from {request.window_from})",
        }
    suppressed = latest.get("conf_status") == "C"
    missing = not suppressed and pd.isna(latest["obs_value"])
    if suppressed:
        reason = (
            f"cell suppressed by disclosure control ({latest.get('suppression') or 'primary'}"
            " suppression: too few census records, or protecting a cell that has)"
        )
    else:
        computed = isinstance(latest.get("computed"), str) and bool(latest.get("computed"))
        flagged = missing or latest.get("obs_status") != "A" or computed
        reason = latest.get("comment") if flagged else None
    return {
        **cell,
        "status": "suppressed" if suppressed else "missing" if missing else "value",
        "time_period": latest["time_period"],
        "obs_value": None if suppressed or missing else latest["obs_value"],
        "unit_measure": latest["unit_measure"],
        "source_ids": list(latest["source_ids"]),
        "source_vintages": list(latest["source_vintages"]),
        "basis": latest["basis"],
        "obs_status": latest["obs_status"],
        "conf_status": latest.get("conf_status") or "F",
        "suppression": latest.get("suppression"),
        "computed": latest.get("computed") if isinstance(latest.get("computed"), str) else None,
        **({} if suppressed or missing else uncertainty(latest)),
        "reason": reason,
    }


#: What uncertainty a value carries, by how its source made it (sources/source_names.py).
UNCERTAINTY = {
    "census_sample": "census sample: standard error of the share and its 95 % interval",
    "census_full": "full census count, no sampling error",
    "census": "census figure: its sampling error is not computed",
    "administrative": "administrative count, no sampling error",
    "survey": "sample survey: the office or publisher gives no standard error with it",
    "estimate": "published estimate: the publisher gives no standard error with it",
    "unknown": "no standard error known",
}


def uncertainty(row: pd.Series) -> dict:
    """A value's standard error and 95 % interval where it is a census share (as in the panel),
    and in words what uncertainty it carries otherwise."""
    from sources.source_names import source_collection

    frame = pd.DataFrame([row])
    for column in ("base_count", "weight_sum"):
        if column not in frame:
            frame[column] = np.nan
    error = share_standard_errors(frame).iloc[0]
    kinds = {source_collection(s) for s in row["source_ids"]}
    if pd.notna(error):
        kind = "census_sample" if error > 0 else "census_full"
        value = float(row["obs_value"])
        return {
            "std_error": float(error),
            "ci_low": max(value - Z95 * error, 0.0),
            "ci_high": min(value + Z95 * error, 100.0),
            "uncertainty": UNCERTAINTY[kind],
        }
    for kind in ("census", "survey", "estimate", "administrative"):
        if kind in kinds:
            return {"uncertainty": UNCERTAINTY[kind]}
    return {"uncertainty": UNCERTAINTY["unknown"]}


def did_panel(
    indicators: pd.DataFrame, request: BaselineRequest, populations: pd.DataFrame | None = None
) -> pd.DataFrame:
    """Every period of every requested indicator in the intervention and comparison areas, with
    the treated and post-start flags a difference-in-differences model needs; each row says
    its area's level and validity, whether it holds a value (`status`: value, suppressed,
    missing, never a bare NaN), and for census cells the unweighted record count, the sum of
    weights and the standard error of a share (95 % interval beside it); time relative to the
    start (`first_treated`, `event_time`) and, where `populations` holds the area's population
    in the period, the count per 1,000 residents."""
    areas = request_areas(request)
    areas = areas[areas["role"] != "national"]
    parts = []
    for choice in request.indicators:
        rows = _choice_rows(indicators, choice).merge(
            areas[["ref_area", "area_name", "area_level", "role"]], on="ref_area", how="inner"
        )
        parts.append(rows)
    parts = [p for p in parts if len(p)]
    if not parts:
        return pd.DataFrame(columns=PANEL_COLUMNS)
    panel = pd.concat(parts, ignore_index=True)
    panel["request_id"] = request.id
    panel["treated"] = panel["role"].eq("intervention")
    panel["period_end"] = panel["time_period"].map(period_end)
    panel["post"] = panel["period_end"].map(lambda d: d is not None and d > request.start)
    validity = _validity()
    panel["area_valid_from"] = panel["ref_area"].map(lambda a: validity.get(a, (None, None))[0])
    panel["area_valid_to"] = panel["ref_area"].map(lambda a: validity.get(a, (None, None))[1])
    panel["area_valid"] = [
        end is not None
        and (start is None or start <= end)
        and (stop is None or end <= stop or _same_year(end, stop))
        for end, start, stop in zip(
            panel["period_end"], panel["area_valid_from"], panel["area_valid_to"], strict=True
        )
    ]
    confidential = panel.get("conf_status", pd.Series(None, index=panel.index)).eq("C")
    empty = panel["obs_value"].isna()
    panel["status"] = np.where(confidential, "suppressed", np.where(empty, "missing", "value"))
    panel["reason"] = [
        _why_empty(s, c, g) if s != "value" else None
        for s, c, g in zip(
            panel["status"],
            panel.get("suppression", pd.Series(None, index=panel.index)),
            panel.get("comment", pd.Series(None, index=panel.index)),
            strict=True,
        )
    ]
    for column in ("base_count", "weight_sum", "computed"):
        if column not in panel:
            panel[column] = np.nan
    panel["std_error"] = share_standard_errors(panel)
    panel["ci_low"] = (panel["obs_value"] - Z95 * panel["std_error"]).clip(lower=0)
    panel["ci_high"] = (panel["obs_value"] + Z95 * panel["std_error"]).clip(upper=100)
    panel["synthetic"] = panel.get("synthetic", pd.Series(False, index=panel.index))
    panel["synthetic"] = panel["synthetic"].fillna(False).astype(bool)
    panel = add_rates(add_event_time(panel, request.start), populations)
    return (
        panel[PANEL_COLUMNS]
        .sort_values(
            ["indicator_id", "series", "ref_area", "sex", "age", "migrant_status", "time_period"]
        )
        .reset_index(drop=True)
    )


def _same_year(end: date, stop: date) -> bool:
    """A yearly value of the year an area was abolished still describes it."""
    return end.year == stop.year


def _why_empty(status: str, suppression: object, comment: object) -> str:
    if status == "suppressed":
        return (
            f"confidential ({suppression if isinstance(suppression, str) else 'primary'} "
            "suppression): too few census records, or protecting a cell that has"
        )
    return comment if isinstance(comment, str) and comment else "no value published"


def _validity() -> dict[str, tuple[date | None, date | None]]:
    table = admin_areas()
    found = {}
    for code, start, stop in zip(
        table["code"], table["valid_from"], table["valid_to"], strict=True
    ):
        start = None if start is None or pd.isna(start) else start
        stop = None if stop is None or pd.isna(stop) else stop
        before = found.get(code)
        if before is None or (stop is None):  # a code reused: the current area wins
            found[code] = (start, stop)
    return found


def share_standard_errors(panel: pd.DataFrame) -> pd.Series:
    """The standard error of a census share (per cent) from its unweighted records n and the sum
    of weights W: sqrt((1 - n/W) p (1 - p) / n) x 100, the sampling fraction n/W correcting for
    a sample census (a full count, n = W, has none). Empty for values that are not shares or not
    from a census."""
    p = panel["obs_value"] / 100
    n = pd.to_numeric(panel["base_count"], errors="coerce").astype(float)
    w = pd.to_numeric(panel["weight_sum"], errors="coerce").astype(float)
    share = (panel["unit_measure"] == "PT") & n.gt(0) & w.gt(0) & p.between(0, 1)
    fraction = (n / w).clip(upper=1)
    variance = ((1 - fraction) * p * (1 - p) / n).where(share)
    return np.sqrt(variance) * 100


def identification_problems(panel: pd.DataFrame, request: BaselineRequest) -> list[str]:
    """Why a panel cannot identify an effect: for each indicator and series, values are
    needed before and after the start, in intervention and in comparison areas."""
    problems = []
    if panel.empty:
        return [
            f"{request.id}: the panel is empty: no requested indicator has a value in the "
            "intervention or comparison areas"
        ]
    valued = panel[panel["status"] == "value"]
    for (indicator, series), rows in panel.groupby(["indicator_id", "series"]):
        have = valued[(valued["indicator_id"] == indicator) & (valued["series"] == series)]
        last = rows["time_period"].max()
        if not (have["post"]).any():
            problems.append(
                f"{indicator} ({series}): no period after the start {request.start} "
                f"(the data end in {last}): nothing to compare the baseline with"
            )
        if not (~have["post"]).any():
            problems.append(f"{indicator} ({series}): no period before the start {request.start}")
        if not (~have["treated"]).any():
            problems.append(f"{indicator} ({series}): no comparison area has a value")
        if not have["treated"].any():
            problems.append(f"{indicator} ({series}): no intervention area has a value")
    return problems


def pretrends(panel: pd.DataFrame) -> pd.DataFrame:
    """Per indicator, series and breakdown, the mean of the intervention and comparison areas in
    each period before the start, and their difference: roughly constant differences make the
    parallel-trends assumption plausible."""
    pre = panel[(panel["status"] == "value") & ~panel["post"].astype(bool)]
    if pre.empty:
        return pd.DataFrame(columns=PRETREND_COLUMNS)
    keys = PRETREND_COLUMNS[: PRETREND_COLUMNS.index("time_period") + 1]
    table = pre.pivot_table(
        index=keys, columns="treated", values="obs_value", aggfunc=["mean", "count"]
    )
    out = pd.DataFrame(index=table.index).reset_index()
    out["intervention_mean"] = (
        table[("mean", True)].to_numpy() if ("mean", True) in table else np.nan
    )
    out["comparison_mean"] = (
        table[("mean", False)].to_numpy() if ("mean", False) in table else np.nan
    )
    out["difference"] = out["intervention_mean"] - out["comparison_mean"]
    out["intervention_areas"] = (
        table[("count", True)].fillna(0).astype(int).to_numpy() if ("count", True) in table else 0
    )
    out["comparison_areas"] = (
        table[("count", False)].fillna(0).astype(int).to_numpy() if ("count", False) in table else 0
    )
    return out[PRETREND_COLUMNS].sort_values(keys).reset_index(drop=True)


def reconcile(indicators: pd.DataFrame, request: BaselineRequest) -> pd.DataFrame:
    """The logframe's own baselines beside the profile's value for the same indicator, national
    level, at the latest period on or before the logframe's baseline date (same window)."""
    rows = []
    frame = indicators.assign(period_end=indicators["time_period"].map(period_end))
    for lf in request.logframe_baselines:
        choice = IndicatorChoice(id=lf["indicator_id"], sex=[lf["sex"]])
        as_of = date.fromisoformat(lf["value_date"])
        window = request.model_copy(update={"start": as_of})
        candidates = _choice_rows(frame, choice)
        candidates = candidates[candidates["ref_area"] == request.country]
        unit = LOGFRAME_UNITS.get(str(lf.get("unit", "")).strip())
        same_unit = candidates[candidates["unit_measure"] == unit]
        found = []
        for series in sorted(set(same_unit["series"])) or _series_of(frame, choice):
            cell = _pick(
                {"indicator_id": choice.id, "area_level": "country"},
                candidates[candidates["series"] == series],
                window,
                (frame["indicator_id"] == choice.id).any(),
                frame,
            )
            record = {
                "request_id": request.id,
                "project": request.project,
                "logframe_indicator": lf["indicator_code"],
                "indicator_id": choice.id,
                "series": series,
                "ref_area": request.country,
                "sex": lf["sex"],
                "logframe_date": as_of,
                "logframe_value": lf["value"],
                "profile_period": cell.get("time_period"),
                "tolerance_pct": request.tolerance_pct,
            }
            if cell["status"] != "value":
                record |= {"status": "no_profile_value", "reason": cell["reason"]}
            else:
                profile = float(cell["obs_value"])
                difference = float(lf["value"]) - profile
                pct = difference / profile * 100 if profile else None
                beyond = pct is None or abs(pct) > request.tolerance_pct
                record |= {
                    "profile_value": profile,
                    "difference": difference,
                    "difference_pct": pct,
                    "status": "beyond_tolerance" if beyond else "within_tolerance",
                    "reason": (
                        f"logframe differs from the profile by {pct:+.1f} % "
                        f"(tolerance {request.tolerance_pct:g} %)"
                        if beyond and pct is not None
                        else None
                    ),
                }
            found.append(record)
        # a series without a value says so only when no series of the same unit has one
        valued = [r for r in found if r["status"] != "no_profile_value"]
        rows += valued or found[:1]
    result = pd.DataFrame(rows, columns=RECONCILIATION_COLUMNS)
    return result
