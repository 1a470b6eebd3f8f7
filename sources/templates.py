"""Data-collection templates: an XLSX workbook built from a spec, which a ministry fills in and
sends back as it is. The first sheet holds the header the spec reads (protected: only the data
cells can be typed in), code lists as in-cell drop-downs, the units in the header's notes; rows
come pre-filled with the labels of the previous edition, whose values are on a sheet beside;
an instructions sheet speaks the ministry's language. A spec reading CSV takes its template as
XLSX too (`SourceSpec.matches`, `read_table`)."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sources.i18n import _
from sources.patterns import spec_pattern
from sources.specs import TEMPLATE_SUFFIX, SourceSpec

DATA_ROWS = 500  # blank rows left open for typing below the pre-filled ones
_GROUP = re.compile(r"\(\?P<(?P<name>[a-z]+)>")


class TemplateError(ValueError):
    """A template that cannot be built from this spec as asked."""


@dataclass
class Template:
    """What goes in the workbook, before it is written."""

    spec: SourceSpec
    period: str
    header: list[str]
    value_columns: list[str]  # where the ministry types numbers
    period_column: str | None
    rows: list[dict[str, Any]] = field(default_factory=list)  # pre-filled labels
    previous: list[dict[str, Any]] = field(default_factory=list)  # same rows, earlier values
    previous_period: dict[str, str] = field(default_factory=dict)  # value column -> its period


def period_groups(period: str) -> dict[str, str]:
    """2024 -> {year}, 2024-Q3 -> {year, quarter}, 2024-07 -> {year, month}."""
    found = re.fullmatch(
        r"(?P<year>\d{4})(?:-Q(?P<quarter>[1-4])|-(?P<month>0[1-9]|1[0-2]))?", period
    )
    if not found:
        raise TemplateError(f"{period!r} is not a period (2024, 2024-Q3 or 2024-07)")
    return {k: v for k, v in found.groupdict().items() if v}


def periods_in(period: str, frequency: str) -> list[str]:
    """The spec's periods a requested one covers: 2024 of a quarterly spec is its 4 quarters."""
    groups = period_groups(period)
    year = groups["year"]
    if frequency == "year":
        return [year]
    if frequency == "quarter":
        if "quarter" in groups:
            return [period]
        if "month" in groups:
            return [f"{year}-Q{(int(groups['month']) - 1) // 3 + 1}"]
        return [f"{year}-Q{q}" for q in range(1, 5)]
    if "month" in groups:
        return [period]
    months = range(1, 13)
    if "quarter" in groups:
        first = (int(groups["quarter"]) - 1) * 3 + 1
        months = range(first, first + 3)
    return [f"{year}-{m:02d}" for m in months]


def year_before(period: str) -> str:
    return f"{int(period[:4]) - 1}{period[4:]}"


def text_for(regex: str, period: str) -> str:
    """The text a period pattern of a spec matches for `period` (a header such as `T3 2024`,
    a file name such as `titres_sejour_2024.xlsx`), built from the pattern itself."""
    groups = period_groups(period)
    values = {
        "year": groups["year"],
        "quarter": groups.get("quarter"),
        "month": groups.get("month"),
    }
    out, position = [], 0
    for found in _GROUP.finditer(regex):
        if found.start() < position:
            continue
        out.append(regex[position : found.start()])
        depth, index = 1, found.end()
        while index < len(regex) and depth:
            depth += {"(": 1, ")": -1}.get(regex[index], 0) if regex[index - 1] != "\\" else 0
            index += 1
        value = values.get(found["name"])
        if value is None:
            raise TemplateError(f"the pattern {regex!r} needs a {found['name']}")
        out.append(value)
        position = index
    out.append(regex[position:])
    text = "".join(out).strip("^$")
    text = re.sub(r"\\(.)", r"\1", text)
    if not spec_pattern(regex).search(text):
        raise TemplateError(f"cannot write a text the pattern {regex!r} matches for {period}")
    return text


def template_name(spec: SourceSpec, period: str) -> str:
    """The file name to send the filled-in template under: one the spec recognises, giving the
    period where the spec takes it from the name."""
    if spec.period.from_filename:
        name = text_for(spec.period.from_filename, period)
    else:
        name = spec.file_pattern.replace("*", period.replace("-", "_"), 1).replace("*", "")
    name = str(Path(name).with_suffix(TEMPLATE_SUFFIX))
    if not spec.matches(name):
        raise TemplateError(f"the name {name!r} does not match {spec.file_pattern!r}")
    return name


def value_columns(spec: SourceSpec, periods: list[str]) -> list[str]:
    if spec.period.columns:
        return [text_for(spec.period.columns, p) for p in periods]
    return sorted({m.column or name for name, m in spec.measures.items()})


def header_of(spec: SourceSpec, values: list[str]) -> list[str]:
    """The columns, in the order the spec reads them."""
    header = list(spec.columns)
    if spec.period.column:
        header.append(spec.period.column)
    header += values
    selectors = sorted({c for m in spec.measures.values() for c in m.rows})
    return header + [c for c in selectors if c not in header]


def build_template(
    spec: SourceSpec, period: str, previous: Iterable[dict[str, Any]] = ()
) -> Template:
    """The template of `spec` for `period`, pre-filled from `previous` (earlier rows of the
    dataset, keyed by the file's headers, as the warehouse keeps them): the labels of the rows
    of the same period a year earlier (or of the latest held), and their values beside."""
    periods = periods_in(period, spec.period.frequency)
    values = value_columns(spec, periods)
    header = header_of(spec, values)
    labels = [c for c in header if c not in values and c != spec.period.column]
    template = Template(spec, period, header, values, spec.period.column)
    records = [r for r in previous if isinstance(r, dict)]
    if not records:
        return template
    if spec.period.columns:
        held = {text_for(spec.period.columns, p): p for p in _held_periods(spec, records)}
        source = {}
        for column, wanted in zip(values, periods, strict=True):
            earlier = text_for(spec.period.columns, year_before(wanted))
            source[column] = earlier if earlier in held else max(held, key=held.get, default=None)
        template.previous_period = {c: held.get(s, "") for c, s in source.items() if s}
        chosen = records
    else:
        column = spec.period.column
        if column:
            periods_held = sorted({str(r.get(column, "")).strip() for r in records} - {""})
            wanted = str(year_before(periods[0]))[:4]
            pick = wanted if wanted in periods_held else (periods_held[-1] if periods_held else "")
            chosen = [r for r in records if str(r.get(column, "")).strip() == pick]
            template.previous_period = {c: pick for c in values}
        else:
            chosen = records
            template.previous_period = {c: "" for c in values}
        source = {c: c for c in values}
    seen = set()
    for record in chosen:
        key = tuple(str(record.get(c, "")) for c in labels)
        if key in seen or labels and all(not str(record.get(c, "")).strip() for c in labels):
            continue
        seen.add(key)
        row = {c: record.get(c) for c in labels}
        if spec.period.column:
            row[spec.period.column] = int(period[:4]) if spec.period.frequency == "year" else period
        template.rows.append(row)
        template.previous.append({c: record.get(s) if s else None for c, s in source.items()})
    return template


def _held_periods(spec: SourceSpec, records: list[dict]) -> list[str]:
    from sources.submissions import period_of

    found = set()
    pattern = spec_pattern(spec.period.columns)
    for record in records:
        for key in record:
            match = pattern.fullmatch(str(key).strip())
            if match:
                groups = match.groupdict()
                found.add(
                    period_of(spec, groups["year"], groups.get("quarter"), groups.get("month"))
                )
    return sorted(found)


def code_lists(spec: SourceSpec, language: str) -> dict[str, list[str]]:
    """Per column, the labels it accepts (the spec's labels, then country names)."""
    lists = {}
    for name, column in spec.columns.items():
        labels = [label for label in column.codes if label not in column.drop]
        if column.country_names:
            labels += [x for x in country_labels(column.country_names) if x not in labels]
        if labels:
            lists[name] = labels
    return lists


def country_labels(language: str) -> list[str]:
    """Country names as a reader of `language` writes them (their usual short form), sorted."""
    import gettext

    import pycountry

    from sources.geography import normalise_label

    translate = (
        gettext.translation("iso3166-1", pycountry.LOCALES_DIR, languages=[language]).gettext
        if language != "en"
        else (lambda text: text)
    )
    names = {translate(getattr(c, "common_name", None) or c.name) for c in pycountry.countries}
    return sorted(names, key=normalise_label)


def write_template(template: Template, path: Path, language: str, deadline: str | None) -> Path:
    """Write the workbook: data sheet first (named as the spec reads it), then the previous
    edition, the instructions and the code lists."""
    from openpyxl import Workbook
    from openpyxl.comments import Comment
    from openpyxl.styles import Alignment, Font, PatternFill, Protection
    from openpyxl.utils import get_column_letter
    from openpyxl.worksheet.datavalidation import DataValidation

    spec = template.spec
    book = Workbook()
    data = book.active
    data.title = spec.sheet if isinstance(spec.sheet, str) else "Data"
    units = _unit_words(spec, language)
    top = spec.skip_rows
    notes = [
        f"{spec.dataset} — {spec.ministry_name}",
        _("Period: {period}. Values: {units}.", language, period=template.period, units=units),
        _("Type only in the white cells; see the sheet Instructions.", language),
    ]
    for row, note in enumerate(notes[:top], start=1):
        data.cell(row=row, column=1, value=note).font = Font(bold=row == 1)
    header_row = top + spec.header_rows  # a stacked header: written whole in its last row
    bold, shaded = Font(bold=True), PatternFill("solid", fgColor="DDDDDD")
    for index, name in enumerate(template.header, start=1):
        cell = data.cell(row=header_row, column=index, value=name)
        cell.font, cell.fill = bold, shaded
        if name in template.value_columns:
            cell.comment = Comment(units, "EMP")
        data.column_dimensions[get_column_letter(index)].width = max(14, min(40, len(name) + 4))
    last_row = header_row + len(template.rows) + DATA_ROWS
    for offset, row in enumerate(template.rows, start=1):
        for index, name in enumerate(template.header, start=1):
            if name in row and row[name] is not None:
                data.cell(row=header_row + offset, column=index, value=row[name])
    for row in data.iter_rows(
        min_row=header_row + 1, max_row=last_row, max_col=len(template.header)
    ):
        for cell in row:
            cell.protection = Protection(locked=False)
    lists_sheet = book.create_sheet("Lists")
    for index, (name, labels) in enumerate(code_lists(spec, language).items(), start=1):
        letter = get_column_letter(index)
        lists_sheet.cell(row=1, column=index, value=name).font = bold
        for number, label in enumerate(labels, start=2):
            lists_sheet.cell(row=number, column=index, value=label)
        column = get_column_letter(template.header.index(name) + 1)
        rule = DataValidation(
            type="list",
            formula1=f"=Lists!${letter}$2:${letter}${len(labels) + 1}",
            allow_blank=True,
            showErrorMessage=True,
            errorTitle=_("Not in the list", language),
            error=_("Choose a label from the list (sheet Lists).", language),
        )
        rule.add(f"{column}{header_row + 1}:{column}{last_row}")
        data.add_data_validation(rule)
    numbers = DataValidation(
        type="decimal",
        operator="greaterThanOrEqual",
        formula1="0",
        allow_blank=True,
        showErrorMessage=True,
        errorTitle=_("Not a number", language),
        error=_("Type a number, without units or spaces.", language),
    )
    for name in template.value_columns:
        column = get_column_letter(template.header.index(name) + 1)
        numbers.add(f"{column}{header_row + 1}:{column}{last_row}")
    data.add_data_validation(numbers)
    data.freeze_panes = data.cell(row=header_row + 1, column=1)
    data.protection.sheet = True
    data.protection.formatColumns = False
    data.protection.insertRows = False
    lists_sheet.protection.sheet = True
    lists_sheet.sheet_state = "hidden"
    if template.previous:
        earlier = book.create_sheet(_("Previous edition", language))
        labels = [c for c in template.header if c not in template.value_columns]
        titles = labels + [
            _(
                "{column} (was {period})",
                language,
                column=c,
                period=template.previous_period.get(c) or "–",
            )
            for c in template.value_columns
        ]
        earlier.append(titles)
        for cell in earlier[1]:
            cell.font, cell.fill = bold, shaded
        for row, values in zip(template.rows, template.previous, strict=True):
            earlier.append(
                [row.get(c) for c in labels] + [values.get(c) for c in template.value_columns]
            )
        earlier.protection.sheet = True
    guide = book.create_sheet(_("Instructions", language), 1)
    lines = _instructions(template, language, units, deadline)
    for number, line in enumerate(lines, start=1):
        cell = guide.cell(row=number, column=1, value=line)
        cell.alignment = Alignment(wrap_text=True, vertical="top")
        cell.font = Font(bold=number == 1)
    guide.column_dimensions["A"].width = 110
    guide.sheet_view.rightToLeft = language == "ar"
    data.sheet_view.rightToLeft = False  # the header is what the spec reads, left to right
    book.properties.creator = "EMP"
    book.properties.title = f"{spec.id} {template.period}"
    path.parent.mkdir(parents=True, exist_ok=True)
    book.save(path)
    return path


def _unit_words(spec: SourceSpec, language: str) -> str:
    from indicators.translations import term

    words = []
    for measure in spec.measures.values():
        unit = term("units", measure.unit, language) or measure.unit
        if measure.unit_mult == 6:
            unit = _("millions of {unit}", language, unit=unit)
        elif measure.unit_mult == 3:
            unit = _("thousands of {unit}", language, unit=unit)
        if unit not in words:
            words.append(unit)
    return ", ".join(words)


def _instructions(template: Template, language: str, units: str, deadline: str | None) -> list[str]:
    spec = template.spec
    sheet = spec.sheet if isinstance(spec.sheet, str) else "Data"
    lines = [
        _("Data-collection template: {dataset}", language, dataset=spec.dataset),
        _("From: {ministry}", language, ministry=spec.ministry_name),
        _("Period: {period}", language, period=template.period),
    ]
    if deadline:
        lines.append(_("To send by: {date}", language, date=deadline))
    lines += [
        "",
        _(
            "1. Fill in the sheet {sheet}: one row per combination of the labels in its first "
            "columns, the values in the columns {columns}.",
            language,
            sheet=sheet,
            columns=", ".join(template.value_columns),
        ),
        _(
            "2. Values are in {units}: type numbers only, without units, spaces or formulas.",
            language,
            units=units,
        ),
        _(
            "3. Choose labels from the drop-down lists; do not change the header row, the sheet "
            "names or the order of the columns.",
            language,
        ),
        _(
            "4. Rows come filled in with the labels of the previous edition; its values are in "
            "the sheet {sheet} for comparison. Add rows below if needed.",
            language,
            sheet=_("Previous edition", language),
        ),
        _(
            "5. Keep the file name {name} and send the workbook as it is. To check it before "
            "sending: emp check {name}",
            language,
            name=template_name(spec, template.period),
        ),
    ]
    if spec.description:
        lines += ["", " ".join(spec.description.split())]
    return lines
