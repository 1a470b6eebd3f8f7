"""Checking a file before it is sent: everything that loading would do, except loading."""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from dataclasses import asdict, dataclass, field
from fnmatch import fnmatch
from pathlib import Path

from sources.expectations import CheckOutcome, evaluate_frame, suite_file
from sources.i18n import N_, _, localise
from sources.inbox import printable
from sources.observations import FileLayoutError
from sources.projects import REPORT_PATTERN, read_logframe, registry_codes
from sources.specs import SourceSpec
from sources.submissions import harmonise_submission, read_submission

#: how a frame's rules are run: evaluate_frame (pandas) or validate_frame (Great Expectations)
RuleEngine = Callable[..., list[CheckOutcome]]

_REASON = re.compile(r"^(?:column ([\"'])(?P<column>.+?)\1: )?(?P<text>.*)$", re.S)


@dataclass
class Problem:
    severity: str  # error: the file (or the row) would not load; warn: it would, with a note
    rule: str
    message: str
    row: int | None = None
    column: str | None = None
    value: str | None = None
    sheet: str | None = None  # in a workbook of several sheets


@dataclass
class FileCheck:
    file: str
    source: str | None
    would_load: bool = True
    rows_read: int = 0
    problems: list[Problem] = field(default_factory=list)
    publisher: str | None = None  # for a publisher's release: who, which series, which edition
    series: str | None = None
    edition: str | None = None
    values: int | None = None  # observations it would give
    notes: list[str] = field(default_factory=list)  # rows left out or added up on purpose

    def as_dict(self) -> dict:
        return asdict(self)


def _spec_for(path: Path, specs: dict[str, SourceSpec], source: str | None) -> SourceSpec | None:
    if source:
        if source not in specs:
            raise KeyError(f"no spec {source!r}; known: {', '.join(sorted(specs))}")
        return specs[source]
    by_folder = [
        s for s in specs.values() if s.ministry == path.parent.name and s.matches(path.name)
    ]
    by_name = [s for s in specs.values() if s.matches(path.name)]
    hits = by_folder or by_name
    return hits[0] if len(hits) == 1 else None


def check_file(
    path: Path,
    specs: dict[str, SourceSpec],
    source: str | None = None,
    engine: RuleEngine = evaluate_frame,
    period: str | None = None,
) -> FileCheck:
    """Read `path` as its spec says and run the spec's expectations; load nothing. The rules
    run with pandas (`evaluate_frame`), the same outcomes loading gets from Great Expectations
    (`engine=validate_frame`) without its seconds of start-up."""
    if fnmatch(path.name, REPORT_PATTERN) and source in (None, "project_reports"):
        return _check(
            path,
            "project_reports",
            lambda p: read_logframe(p, registry_codes()),
            lambda raw: engine(raw, suite_file("project_reports")),
            {},
        )
    spec = _spec_for(path, specs, source)
    if spec is None:
        report = FileCheck(str(path), None, would_load=False)
        report.problems.append(
            Problem(
                "error",
                "spec",
                N_(
                    "no source spec matches the file name {name!r}; name the "
                    "dataset with --source (see `sources/specs/`)"
                ).format(name=path.name),
            )
        )
        return report
    file_columns = _file_columns(spec)
    if printable(path.name) != path.name:  # loading refuses it: say so before it is sent
        report = FileCheck(str(path), spec.id, would_load=False)
        report.problems.append(
            Problem(
                "error",
                "name",
                N_(
                    "{name}: the file name holds bytes that are not UTF-8 text; rename it and "
                    "send it again"
                ).format(name=printable(path.name)),
            )
        )
        return report
    report = _check(
        path,
        spec.id,
        lambda p: read_submission(spec, p, period),
        lambda raw: engine(harmonise_submission(spec)(raw), spec.rules),
        file_columns,
        spec.rules,
    )
    report.notes += shared_series(spec, specs)
    return report


def shared_series(spec: SourceSpec, specs: dict[str, SourceSpec]) -> list[str]:
    """A note for each series code another spec in force declares too: where both give a
    value for the same key, loading holds back both datasets' values of that series (specs
    that split one series by different breakdowns share it without harm)."""
    notes = []
    for series in sorted({m.series for m in spec.measures.values()}):
        others = sorted(
            s.id
            for s in specs.values()
            if s.id != spec.id and any(m.series == series for m in s.measures.values())
        )
        if others:
            notes.append(
                N_(
                    "series {series} is declared by {others} too: where two datasets give a "
                    "value for the same key, both are held back"
                ).format(series=series, others=", ".join(others))
            )
    return notes


def resembling(path: Path, specs: dict[str, SourceSpec]) -> SourceSpec | None:
    """The dataset a file seems meant for when its name matches no spec: every fixed part of
    one spec's file pattern is in the name ("Copie de immatriculations_consulaires_2019.csv")."""
    name = path.name.lower()
    found = []
    for spec in specs.values():
        parts = [p.lower().strip("_- ") for p in re.split(r"[*?]|\[[^]]*\]", spec.file_pattern)]
        parts = [p for p in parts if p]
        stem = [p for p in parts if not re.fullmatch(r"\.[a-z0-9]+", p)]
        if stem and all(part in spec.name_as_sent(name) for part in parts):
            found.append(spec)
    return found[0] if len(found) == 1 else None


def spec_matches(path: Path, specs: dict[str, SourceSpec]) -> bool:
    """Whether the file is a ministry file or a project report by its name."""
    return fnmatch(path.name, REPORT_PATTERN) or _spec_for(path, specs, None) is not None


def check_release(path: Path, engine: RuleEngine = evaluate_frame) -> list[FileCheck]:
    """A publisher's file recognised by its content and read as loading would read it, for each
    series it holds; nothing loaded. Raises NotRecognisedError if no declared series matches."""
    from sources.publishers.registry import Companion, recognise

    try:
        found = recognise(path)
    except FileLayoutError as err:
        report = FileCheck(str(path), None, would_load=False)
        report.problems.append(Problem("error", "layout", err.detail, err.row, err.column))
        return [report]
    reports = []
    for release in found:
        if isinstance(release, Companion):
            report = FileCheck(str(path), None, would_load=False, series=release.description)
            report.problems.append(
                Problem(
                    "warn",
                    "companion",
                    N_("documentation published with a release; it holds no values to load"),
                )
            )
            reports.append(report)
            continue
        series = release.series
        harmonised: dict[str, int] = {}

        def validate(raw, s=series, counted=harmonised):
            obs = s.checked_frame(raw)
            counted["values"] = len(obs)  # the values it would load, from this one reading
            return engine(obs, s.expectations())

        report = _check(path, series.id, release.read, validate, {})
        for problem in report.problems:  # a bad cell of a release is quarantined, not fatal
            if problem.rule == "row":
                problem.severity, problem.message = "warn", f"quarantined: {problem.message}"
        report.would_load = not any(p.severity == "error" for p in report.problems)
        report.publisher, report.series, report.edition = (
            series.publisher,
            series.title,
            release.vintage,
        )
        report.values = harmonised.get("values", 0)
        reports.append(report)
    return reports


def _file_columns(spec: SourceSpec) -> dict[str, str]:
    """Harmonised column -> the file's column, to speak of the file the sender knows."""
    names = {column.dimension: name for name, column in spec.columns.items()}
    measures = (
        [name for name in spec.measures]
        if not spec.period.columns
        else [f"columns matching {spec.period.columns!r}"]
    )
    names["obs_value"] = " / ".join(measures)
    return names


RULE_WORDS = {
    "columns": N_("the file has the columns {columns}"),
    "types": N_("{columns} hold the kind of value expected (numbers where numbers go)"),
    "not_null": N_("{columns} are never empty"),
    "in_set": N_("{column} is one of {values}"),
    "area_codes": N_("{column} names a known country or area"),
    "between": N_("{column} lies between {min} and {max}"),
    "at_least": N_("{column} is not below {min}"),
    "at_most": N_("{column} is not above {max}"),
    "whole_numbers": N_("{column} counts whole persons"),
    "unique": N_("one row only for each {columns}"),
    "sums_to_total": N_(
        "the rows of each {columns} add up to their total row (within {tolerance} per cent)"
    ),
}


def plain_rule(rule, file_columns: dict[str, str]) -> str:
    """A spec's rule in the words of the file the sender knows: its column headers, no
    internal names or codes."""

    def name(column: str | None) -> str:
        column = column or "obs_value"
        return f"'{file_columns.get(column, column)}'"

    kind = rule.rule
    if kind == "between":
        kind = "at_least" if rule.max is None else "at_most" if rule.min is None else kind
    columns = rule.dimensions if kind == "sums_to_total" else (rule.columns or [])
    if kind == "types":
        columns = list(rule.types or {})
    return RULE_WORDS[kind].format(
        column=name(rule.column),
        columns=", ".join(name(c) for c in columns),
        values=", ".join(map(str, rule.values or [])),
        min="" if rule.min is None else f"{rule.min:g}",
        max="" if rule.max is None else f"{rule.max:g}",
        tolerance=f"{rule.tolerance * 100:g}",
    )


def _check(path, source, read, validate, file_columns, rules=()) -> FileCheck:
    report = FileCheck(str(path), source)
    try:
        result = read(path)
    except FileLayoutError as err:
        report.would_load = False
        report.problems.append(Problem("error", "layout", err.detail, err.row, err.column))
        return report
    rows = {r["source_row"] for r in result.rejected}
    if len(result.frame):
        rows |= set(result.frame["source_row"])
    report.rows_read = len(rows)
    report.notes = list(result.notes)
    for rejected in result.rejected:
        for reason in rejected["reasons"]:
            found = _REASON.match(reason)
            column = found["column"]
            value = rejected["raw_record"].get(column) if column else None
            report.problems.append(
                Problem(
                    "error",
                    "row",
                    found["text"],
                    rejected["source_row"],
                    column,
                    None if value is None else str(value)[:80],
                )
            )
    outcomes: list[CheckOutcome] = validate(result.frame) if len(result.frame) else []
    totals_unchecked = False
    for outcome in outcomes:
        if outcome.success:
            continue
        if result.rejected and "sums_to_total" in outcome.name:
            totals_unchecked = True  # rows left out for their own fault: one cause, one message
            continue
        for failure in outcome.failures:
            column = file_columns.get(failure["column"], failure["column"])
            report.problems.append(
                Problem(
                    outcome.severity,
                    outcome.name,
                    N_("breaks the rule: {rule}").format(
                        rule=_described(outcome, rules, file_columns)
                    ),
                    failure["row"],
                    column,
                    failure["value"],
                    (failure.get("where") or {}).get("sheet"),
                )
            )
    if totals_unchecked:
        report.notes.append(
            N_(
                "the totals are checked once the rows named above are corrected (they are left "
                "out until then, so the parts cannot add up)"
            )
        )
    report.would_load = not any(p.severity == "error" for p in report.problems)
    return report


HELD_BACK_RULES = N_(
    "broke its rules: {rules}; kept aside, not used in the profile until it is sent again corrected"
)
HELD_BACK = N_(
    "broke its rules; kept aside, not used in the profile until it is sent again corrected"
)


def held_back_reason(spec: SourceSpec | None, outcomes: Iterable) -> str:
    """Why a batch is held back, in the words of its file: the error rules it broke."""
    if spec is None:
        return HELD_BACK
    columns = _file_columns(spec)
    broken = []
    for outcome in outcomes:
        found = outcome if isinstance(outcome, dict) else asdict(outcome)
        if found.get("success") or found.get("severity") != "error":
            continue
        text = _described(CheckOutcome(**found), spec.rules, columns)
        if text not in broken:
            broken.append(text)
    return HELD_BACK_RULES.format(rules="; ".join(broken)) if broken else HELD_BACK


def _described(outcome: CheckOutcome, rules, file_columns: dict[str, str]) -> str:
    """The rule an outcome is about, in plain words where the spec's rules are known."""
    try:
        rule = rules[int(outcome.name[:2]) - 1]
    except (ValueError, IndexError, TypeError):
        return outcome.description
    return plain_rule(rule, file_columns)


def plain_words(report: FileCheck, language: str | None = None) -> list[str]:
    """One line per problem, as a focal point would read it, in `language` (default: the
    user's)."""
    lines = [_("note: {note}", language, note=localise(n, language)) for n in report.notes]
    for p in report.problems:
        where = ", ".join(
            part
            for part in (
                _("sheet '{sheet}'", language, sheet=p.sheet) if p.sheet else "",
                _("row {row}", language, row=p.row) if p.row is not None else "",
                _("column '{column}'", language, column=p.column) if p.column else "",
            )
            if part
        )
        message = localise(p.message, language)
        shown = localise(p.value, language)
        value = _(" (value: {value})", language, value=shown) if p.value not in (None, "") else ""
        label = _("ERROR", language) if p.severity == "error" else _("warning", language)
        lines.append(f"{label}: {where + ': ' if where else ''}{message}{value}")
    return lines
