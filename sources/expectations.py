"""Expectation suites: rules declared in YAML (in a source spec, or a file beside the data), run
with Great Expectations on a batch's harmonised frame. Every failure names the file row, the
column and the value."""

from __future__ import annotations

import os
from dataclasses import asdict, dataclass, field
from functools import cache
from pathlib import Path
from typing import Any, Literal

import pandas as pd
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from sources.geography import admin_codes, known_codes
from sources.i18n import N_
from sources.observations import OBSERVATION_KEY
from sources.yaml_files import read_yaml

EXPECTATIONS_DIR = Path(__file__).parent / "expectations"
ROW = "source_row"


class Rule(BaseModel):
    """One declared expectation. `series` restricts it to the rows of some series."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    rule: Literal[
        "columns",
        "types",
        "not_null",
        "in_set",
        "area_codes",
        "between",
        "whole_numbers",
        "unique",
        "sums_to_total",
    ]
    severity: Literal["error", "warn"] = "error"
    column: str | None = None
    columns: list[str] | None = None
    types: dict[str, str] | None = None
    values: list[str] | None = None
    extra_codes: list[str] = Field(default_factory=list)
    min: float | None = None
    max: float | None = None
    series: list[str] | None = None
    dimensions: list[str] | None = None
    total: str = "_T"
    tolerance: float = 0.0
    description: str | None = None


@dataclass
class CheckOutcome:
    """The result of one rule on one frame."""

    name: str
    severity: str
    success: bool
    description: str
    failure_count: int = 0
    failures: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict:
        return asdict(self)


def parse_rules(document: list[dict] | None, where: str) -> list[Rule]:
    try:
        return [Rule.model_validate(item) for item in document or []]
    except ValidationError as err:
        lines = [f"  {'.'.join(map(str, e['loc']))}: {e['msg']}" for e in err.errors()]
        raise ValueError(f"{where}: expectations\n" + "\n".join(lines)) from None


#: Every input read into observations holds one value per key, whatever its spec declares:
#: a file that repeats a key (ten values for one year) is held back before it reaches core.
OBSERVATION_KEY_RULE = Rule(
    rule="unique",
    columns=list(OBSERVATION_KEY),
    description="one value per series, area, counterpart, period and breakdown",
)


def with_key_rule(rules: list[Rule] | tuple[Rule, ...]) -> list[Rule]:
    """`rules` and the observation key rule, unless they already hold it."""
    return [*rules] if OBSERVATION_KEY_RULE in rules else [*rules, OBSERVATION_KEY_RULE]


@cache
def suite_file(name: str) -> tuple[Rule, ...]:
    """Rules declared in sources/expectations/<name>.yaml (public files, project reports)."""
    path = EXPECTATIONS_DIR / f"{name}.yaml"
    if not path.exists():
        return ()
    return tuple(parse_rules(read_yaml(path), str(path)))


@cache
def _batch_definition():
    os.environ.setdefault("GX_ANALYTICS_ENABLED", "False")
    import great_expectations as gx  # ~3 s to import: only when validating
    from great_expectations.data_context.types.base import ProgressBarsConfig

    context = gx.get_context(mode="ephemeral")
    context.variables.progress_bars = ProgressBarsConfig(globally=False)
    source = context.data_sources.add_pandas("emp")
    return gx, source.add_dataframe_asset("frame").add_batch_definition_whole_dataframe("whole")


def _expectations(gx, rule: Rule, frame: pd.DataFrame) -> list:
    e = gx.expectations
    if rule.rule == "columns":
        return [e.ExpectTableColumnsToMatchSet(column_set=rule.columns, exact_match=False)]
    if rule.rule == "types":
        return [e.ExpectColumnValuesToBeOfType(column=c, type_=t) for c, t in rule.types.items()]
    if rule.rule == "not_null":
        return [e.ExpectColumnValuesToNotBeNull(column=c) for c in rule.columns]
    if rule.rule == "in_set":
        return [e.ExpectColumnValuesToBeInSet(column=rule.column, value_set=rule.values)]
    if rule.rule == "area_codes":
        codes = sorted(known_codes() | admin_codes() | set(rule.extra_codes))
        return [e.ExpectColumnValuesToBeInSet(column=rule.column, value_set=codes)]
    if rule.rule in ("between", "sums_to_total"):
        column = rule.column or "obs_value"
        if rule.rule == "sums_to_total":
            column, low, high = "gap", None, rule.tolerance
        else:
            low, high = rule.min, rule.max
        return [e.ExpectColumnValuesToBeBetween(column=column, min_value=low, max_value=high)]
    if rule.rule == "whole_numbers":
        return [e.ExpectColumnValuesToBeBetween(column="fraction", min_value=0, max_value=1e-6)]
    if rule.rule == "unique":
        if len(rule.columns) == 1:
            return [e.ExpectColumnValuesToBeUnique(column=rule.columns[0])]
        return [e.ExpectCompoundColumnsToBeUnique(column_list=rule.columns)]
    raise ValueError(rule.rule)


def _frame_for(rule: Rule, frame: pd.DataFrame) -> pd.DataFrame:
    if rule.series is not None and "series" in frame:
        frame = frame[frame["series"].isin(rule.series)]
    if rule.rule == "whole_numbers":
        column = rule.column or "obs_value"
        values = frame[column].astype("float64")
        frame = frame.assign(fraction=(values - values.round()).abs().fillna(0))
    if rule.rule == "sums_to_total":
        frame = _totals_gap(frame, rule)
    if rule.rule == "columns":  # the column set is all it reads
        frame = frame.head(1)
    else:
        # only what the rule reads and what a failure is reported with: Great Expectations
        # fingerprints every batch, and pickles it whole when a column holds unhashable values
        wanted = {ROW, *_CONTEXT, *_rule_columns(rule), "total", "parts"}
        frame = frame[[c for c in frame.columns if c in wanted]]
    return frame.reset_index(drop=True)


def columns_read(rules: list[Rule] | tuple[Rule, ...]) -> set[str] | None:
    """Every column a set of rules reads or reports a failure with; None when they need the
    whole table (a column set, or totals keyed by every other column)."""
    if any(rule.rule in ("columns", "sums_to_total") for rule in rules):
        return None
    named = {c for rule in rules for c in _rule_columns(rule) + list(rule.columns or [])}
    named |= {rule.column or "obs_value" for rule in rules}
    if any(rule.series for rule in rules):
        named.add("series")
    derived = {"fraction", "gap"}  # computed from obs_value
    return (named - derived) | {"obs_value", *_CONTEXT}


def _rule_columns(rule: Rule) -> list[str]:
    """The columns a rule's expectations read."""
    derived = {"whole_numbers": ["fraction"], "sums_to_total": ["gap"]}.get(rule.rule)
    if derived:
        return derived
    named = [rule.column or "obs_value", *(rule.columns or []), *(rule.types or {})]
    return named


#: Columns shown beside a failing value, to say which cell of a wide table it was.
_CONTEXT = ("sheet", "series", "ref_area", "counterpart_area", "time_period", "sex")

#: Columns that describe an observation rather than identify it.
_NOT_KEYS = (
    ROW,
    "record",
    "unit_mult",
    "obs_status",
    "basis",
    "batch_id",
    "source_id",
    "type_of_data",
    "unit_measure",
    "value",
)


def _totals_gap(frame: pd.DataFrame, rule: Rule) -> pd.DataFrame:
    """One row per total (every listed dimension at `total`): its value, the sum of its parts
    (rows where no listed dimension is at `total`) and the relative gap."""
    value = rule.column or "obs_value"
    dims = rule.dimensions or []
    keys = [c for c in frame.columns if c not in (*dims, value, *_NOT_KEYS)]
    at_total = frame[dims].eq(rule.total)
    totals = frame[at_total.all(axis=1)].set_index(keys)
    parts = frame[~at_total.any(axis=1)].groupby(keys, dropna=False)[value].sum()
    joined = totals.join(parts.rename("parts"), how="inner")
    gap = (joined[value] - joined["parts"]).abs() / joined[value].abs().clip(lower=1)
    return pd.DataFrame(
        {
            ROW: joined[ROW].to_numpy(),
            "total": joined[value].to_numpy(),
            "parts": joined["parts"].to_numpy(),
            "gap": gap.to_numpy(),
        }
    )


def _describe(rule: Rule) -> str:
    if rule.description:
        return rule.description
    scope = f" (series {', '.join(rule.series)})" if rule.series else ""
    text = {
        "columns": f"the columns {rule.columns} are present",
        "types": f"column types are {rule.types}",
        "not_null": f"{rule.columns} are never empty",
        "in_set": f"{rule.column} is one of {rule.values}",
        "area_codes": f"{rule.column} is an ISO 3166 or declared area code",
        "between": f"{rule.column or 'obs_value'} lies within "
        f"[{'-inf' if rule.min is None else rule.min}, {'inf' if rule.max is None else rule.max}]",
        "whole_numbers": f"{rule.column or 'obs_value'} counts whole persons",
        "unique": f"one row per {', '.join(rule.columns or [])}",
        "sums_to_total": f"parts of {', '.join(rule.dimensions or [])} add up to the total row "
        f"within {rule.tolerance:.1%}",
    }[rule.rule]
    return text + scope


def validate_frame(frame: pd.DataFrame, rules: list[Rule] | tuple[Rule, ...]) -> list[CheckOutcome]:
    """Run each rule with Great Expectations; failures carry the file row of each bad value."""
    if not rules:
        return []
    gx, batch_definition = _batch_definition()

    def failures_of(rule: Rule, subset: pd.DataFrame, name: str) -> list[dict]:
        suite = gx.ExpectationSuite(name=name)
        for expectation in _expectations(gx, rule, subset):
            suite.add_expectation(expectation)
        batch = batch_definition.get_batch(batch_parameters={"dataframe": subset})
        index = [ROW] + [c for c in _CONTEXT if c in subset]
        index += ["total", "parts"] if rule.rule == "sums_to_total" else []
        result = batch.validate(
            suite,
            result_format={"result_format": "COMPLETE", "unexpected_index_column_names": index},
        )
        return _gx_failures(rule, result)

    return _run_rules(frame, rules, failures_of)


def evaluate_frame(frame: pd.DataFrame, rules: list[Rule] | tuple[Rule, ...]) -> list[CheckOutcome]:
    """The same rules and the same outcomes as `validate_frame`, evaluated with pandas alone:
    for `emp check`, which answers a ministry in about a second (Great Expectations takes
    seconds to import). tests/test_validation.py holds the two to the same results."""
    return _run_rules(frame, rules, lambda rule, subset, _name: _pandas_failures(rule, subset))


#: a total row and what its parts add up to (numbers written plainly; shown the reader's way)
TOTAL_AND_PARTS = N_("total {total}, parts add up to {parts}")


def _n(value: float) -> str:
    return f"{float(value):.12g}"


def _run_rules(frame: pd.DataFrame, rules, failures_of) -> list[CheckOutcome]:
    """Each rule on the rows and columns it reads; `failures_of(rule, subset, name)` finds the
    failures (Great Expectations or pandas)."""
    outcomes = []
    for number, rule in enumerate(rules, start=1):
        subset = _frame_for(rule, frame)
        name = f"{number:02d}_{rule.rule}" + (f"_{rule.column}" if rule.column else "")
        if subset.empty or (rule.rule != "columns" and ROW not in subset):
            outcomes.append(CheckOutcome(name, rule.severity, True, _describe(rule)))
            continue
        failures = failures_of(rule, subset, name)
        outcomes.append(
            CheckOutcome(
                name, rule.severity, not failures, _describe(rule), len(failures), failures[:50]
            )
        )
    return outcomes


def _gx_failures(rule: Rule, result) -> list[dict]:
    """A Great Expectations validation result as failures naming row, column and value."""
    failures = []
    for item in result.results:
        if item.success:
            continue
        column = item.expectation_config.kwargs.get("column") or ",".join(
            item.expectation_config.kwargs.get("column_list") or []
        )
        indexed = item.result.get("unexpected_index_list") or []
        if not indexed:
            failures.append(
                {"row": None, "column": column, "value": str(item.result.get("observed_value"))}
            )
        for entry in indexed:
            row = entry.get(ROW)
            if rule.rule == "sums_to_total":
                column = rule.column or "obs_value"
                shown = TOTAL_AND_PARTS.format(total=_n(entry["total"]), parts=_n(entry["parts"]))
            else:
                shown = _short(entry.get(column.split(",")[0]))
            where = {c: str(entry[c]) for c in _CONTEXT if c in entry and c != column}
            failures.append(
                {
                    "row": None if row is None else int(row),
                    "column": column,
                    "value": shown,
                    "where": where,
                }
            )
    return failures


def _pandas_failures(rule: Rule, frame: pd.DataFrame) -> list[dict]:
    if rule.rule == "columns":
        missing = [c for c in rule.columns or [] if c not in frame.columns]
        if not missing:
            return []
        return [{"row": None, "column": "", "value": str(sorted(frame.columns))}]
    if rule.rule == "types":
        failures = []
        for column, type_name in (rule.types or {}).items():
            if column not in frame:
                failures.append({"row": None, "column": column, "value": "None"})
                continue
            values = frame[column]
            if values.dtype == object:  # each value's own type, as Great Expectations does
                names = values.map(lambda v: type(v).__name__)
                wrong = values.notna() & (names != type_name)
                failures += _rows(frame, wrong, column)
            elif str(values.dtype) != type_name:
                failures.append({"row": None, "column": column, "value": str(values.dtype)})
        return failures
    if rule.rule == "not_null":
        return [f for c in rule.columns or [] for f in _rows(frame, frame[c].isna(), c)]
    if rule.rule in ("in_set", "area_codes"):
        allowed = set(rule.values or [])
        if rule.rule == "area_codes":
            allowed = known_codes() | admin_codes() | set(rule.extra_codes)
        values = frame[rule.column]
        return _rows(frame, values.notna() & ~values.isin(allowed), rule.column)
    if rule.rule in ("between", "whole_numbers", "sums_to_total"):
        column, low, high = rule.column or "obs_value", rule.min, rule.max
        if rule.rule == "whole_numbers":
            column, low, high = "fraction", 0, 1e-6
        if rule.rule == "sums_to_total":
            column, low, high = "gap", None, rule.tolerance
        values = pd.to_numeric(frame[column], errors="coerce")
        outside = pd.Series(False, index=frame.index)
        if low is not None:
            outside |= values < low
        if high is not None:
            outside |= values > high
        failures = _rows(frame, values.notna() & outside, column)
        if rule.rule == "sums_to_total":
            target = rule.column or "obs_value"
            flagged = frame[values.notna() & outside].iterrows()
            for failure, (_, row) in zip(failures, flagged, strict=True):
                failure.update(
                    column=target,
                    value=TOTAL_AND_PARTS.format(total=_n(row["total"]), parts=_n(row["parts"])),
                    where={},
                )
        return failures
    if rule.rule == "unique":
        columns = rule.columns or []
        keys = frame[columns]
        present = keys.notna().all(axis=1) if len(columns) == 1 else keys.notna().any(axis=1)
        repeated = keys[present].duplicated(keep=False)
        repeated = present & repeated.reindex(frame.index, fill_value=False)
        return _rows(frame, repeated, ",".join(columns))
    raise ValueError(rule.rule)


def _rows(frame: pd.DataFrame, mask: pd.Series, column: str) -> list[dict]:
    """One failure per row under `mask`, worded as `validate_frame` words it."""
    shown_column = column.split(",")[0]
    failures = []
    for _, row in frame[mask.fillna(False).astype(bool)].iterrows():
        where = {c: str(row[c]) for c in _CONTEXT if c in row.index and c != column}
        source_row = row.get(ROW)
        failures.append(
            {
                "row": None if source_row is None or pd.isna(source_row) else int(source_row),
                "column": column,
                "value": _short(str(row[shown_column])),
                "where": where,
            }
        )
    return failures


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 80 else f"{text[:77]}... ({len(text):,} characters)"


def verdict(outcomes: list[CheckOutcome]) -> str:
    """'failed' if an error rule failed, 'warned' if only warnings, else 'passed'."""
    if any(not o.success and o.severity == "error" for o in outcomes):
        return "failed"
    if any(not o.success for o in outcomes):
        return "warned"
    return "passed"
