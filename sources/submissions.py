"""Reading a ministry submission by its spec: layout, codes, period, measures -> long cells."""

from __future__ import annotations

import codecs
import csv
import io
import json
import re
import warnings
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd

from sources.excel import check_workbook, column_letter, has_formulas, read_sheet
from sources.geography import country_names, normalise_label
from sources.i18n import N_
from sources.limits import cell_number, checked_number, limits
from sources.observations import TOTAL, FileLayoutError, RawRead, no_value_note, observations
from sources.patterns import spec_pattern
from sources.specs import ColumnSpec, SourceSpec

DIMENSIONS = (
    "ref_area",
    "counterpart_area",
    "sex",
    "age",
    "migrant_status",
    "education",
    "breakdown",
)
RAW_COLUMNS = ("source_row", "record", "series", "time_period", *DIMENSIONS, "value")


@dataclass
class Table:
    """A file's data rows under its header labels, the file row of each, and the problems
    found in particular rows while reading (wrong field count, a formula instead of a value)."""

    frame: pd.DataFrame
    rows: list[int]
    row_problems: dict[int, list[str]] = field(default_factory=dict)


def read_table(spec: SourceSpec, path: Path) -> Table:
    """Read the file's table as its spec says; a file that cannot be read at all raises a
    FileLayoutError naming the file (and the row, where there is one)."""
    if not path.stat().st_size:
        raise FileLayoutError(path, N_("the file is empty"))
    if spec.is_template(path.name):  # its collection template: the first sheet, as written
        table = _read_excel(spec.model_copy(update={"format": "xlsx", "sheet": 0}), path)
    elif spec.format == "csv":
        table = _read_csv(spec, path)
    elif spec.format == "parquet":
        try:
            frame = pd.read_parquet(path).astype(object)
        except Exception as err:  # pyarrow raises several kinds for a damaged file
            raise FileLayoutError(path, f"not a readable Parquet file: {err}") from err
        table = Table(frame, list(range(1, len(frame) + 1)))
    else:
        table = _read_excel(spec, path)
    table.frame = _without_empty_headers(table.frame)
    _refuse_duplicate_labels(path, list(table.frame.columns), spec.skip_rows + spec.header_rows)
    if spec.stop_at_blank_row and len(table.frame):
        blank = table.frame.apply(lambda r: all(_is_blank(v) for v in r), axis=1)
        if blank.any():
            cut = int(blank.to_numpy().argmax())
            table.frame, table.rows = table.frame.iloc[:cut], table.rows[:cut]
    table.frame = table.frame.reset_index(drop=True)
    if table.frame.empty:
        raise FileLayoutError(
            path,
            N_("the file has a header but no data rows"),
            row=spec.skip_rows + spec.header_rows,
        )
    return table


def other_encoding(spec: SourceSpec, path: Path, missing: list[str]) -> str | None:
    """The encoding a text file is really in, when read in it the headers the spec misses
    appear (a file saved in another encoding than the spec's)."""
    if spec.format != "csv" or spec.is_template(path.name) or not missing:
        return None
    from charset_normalizer import from_bytes

    raw = path.read_bytes()[: 1 << 16]
    candidates = [m.encoding for m in from_bytes(raw)] + ["utf-8", "cp1252", "utf-16"]
    for encoding in dict.fromkeys(candidates):
        if codecs.lookup(encoding).name == codecs.lookup(spec.encoding).name:
            continue
        try:
            text = raw.decode(encoding)
        except (UnicodeDecodeError, LookupError):
            continue
        if all(column in text for column in missing):
            return codecs.lookup(encoding).name
    return None


def _without_empty_headers(frame: pd.DataFrame) -> pd.DataFrame:
    """Columns with no header: dropped when they hold nothing (trailing delimiters, a sheet's
    formatted but empty columns), else named by their letter, so that no two share a name."""
    keep, names = [], []
    for index, label in enumerate(frame.columns):
        if str(label).strip():
            keep.append(index)
            names.append(label)
        elif not frame.iloc[:, index].map(_is_blank).all():
            keep.append(index)
            names.append(f"(no header, column {_letter(index)})")
    if len(keep) == len(frame.columns):
        return frame
    out = frame.iloc[:, keep].copy()
    out.columns = names
    return out


def _refuse_duplicate_labels(path: Path, labels: list[str], header_row: int) -> None:
    """Two columns under one header would silently lose one of them: refused."""
    seen: dict[str, int] = {}
    for index, label in enumerate(labels):
        name = str(label).strip()
        if not name:
            continue
        if name in seen:
            raise FileLayoutError(
                path,
                f"two columns have the same header (columns {_letter(seen[name])} and "
                f"{_letter(index)}); rename one",
                row=header_row,
                column=name,
            )
        seen[name] = index


def _letter(index: int) -> str:
    """A column's spreadsheet letter: 0 -> A, 26 -> AA."""
    return column_letter(index)


def _is_blank(value: Any) -> bool:
    return (
        value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() == ""
    )


def _refuse_binary(spec: SourceSpec, path: Path, head: bytes) -> None:
    """UTF-16/32 text or a binary file read as a one-byte encoding would decode into NUL
    characters without complaint: refused with what the file seems to be."""
    boms = {
        b"\xff\xfe": "UTF-16 (little-endian)",
        b"\xfe\xff": "UTF-16 (big-endian)",
    }
    found = next((name for bom, name in boms.items() if head.startswith(bom)), None)
    if found and not spec.encoding.lower().replace("-", "").startswith("utf16"):
        raise FileLayoutError(
            path,
            f"the file is {found} text, but the spec says {spec.encoding}; save it as "
            f"{spec.encoding}",
            row=1,
        )
    if b"\x00" in head and not spec.encoding.lower().replace("-", "").startswith("utf16"):
        kinds = {b"PK\x03\x04": "a zip or .xlsx file", b"\xd0\xcf\x11\xe0": "an .xls file"}
        what = next((k for magic, k in kinds.items() if head.startswith(magic)), None)
        raise FileLayoutError(
            path,
            f"not a text file ({what or 'it holds NUL bytes: UTF-16 or binary?'}); the spec "
            f"expects CSV in {spec.encoding}",
            row=text_line_of(path, head.index(b"\x00")),
        )


def _read_csv(spec: SourceSpec, path: Path) -> Table:
    limit = limits()
    with open(path, "rb") as fh:
        _refuse_binary(spec, path, fh.read(1 << 16))
    try:
        with open(path, encoding=spec.encoding, newline="") as fh:
            text = fh.read()
    except UnicodeDecodeError as err:
        from charset_normalizer import from_bytes

        best = from_bytes(path.read_bytes()[: 1 << 16]).best()
        raise FileLayoutError(
            path,
            N_(
                "the file is not in the {expected} encoding this dataset is read in (a byte "
                "{byte} cannot be read); it reads as {found}: save it again as {expected}"
            ).format(
                expected=spec.encoding,
                byte=f"{err.object[err.start]:#04x}",
                found=codecs.lookup(best.encoding).name if best else "?",
            ),
            row=text_line_of(path, err.start),
        ) from err
    text = text.removeprefix("\ufeff")
    if not text.strip():
        raise FileLayoutError(path, "the file is empty")
    csv.field_size_limit(limit.line_chars)
    lines, starts = [], []
    # newline="": CRLF, LF and a lone CR all end a line (files edited on several systems)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=spec.delimiter)
    try:
        for fields in reader:
            start = (starts[-1][1] if starts else 0) + 1
            starts.append((start, reader.line_num))
            if reader.line_num > start:
                _refuse_unbalanced_quote(spec, path, fields, start, reader.line_num, text)
            lines.append(fields)
            if len(lines) > limit.rows + spec.skip_rows + spec.header_rows:
                raise FileLayoutError(
                    path,
                    f"more than {limit.rows:,} rows, beyond the limit (EMP_MAX_ROWS)",
                    row=reader.line_num,
                )
            if len(fields) > limit.columns:
                raise FileLayoutError(
                    path,
                    f"{len(fields):,} columns, beyond the limit of {limit.columns:,} "
                    "(EMP_MAX_COLUMNS)",
                    row=reader.line_num,
                )
    except csv.Error as err:
        raise FileLayoutError(
            path,
            f"not readable as CSV: {err} (a field longer than {limit.line_chars:,} characters "
            "(EMP_MAX_LINE_CHARS), or an unclosed quote?)",
            row=reader.line_num,
        ) from None
    head_at = spec.skip_rows
    head = lines[head_at : head_at + spec.header_rows]
    if len(head) < spec.header_rows:
        raise FileLayoutError(path, "no header row", row=head_at + 1)
    labels = [
        " ".join(filter(None, (h[i].strip() if i < len(h) else "" for h in head)))
        for i in range(max(len(h) for h in head))
    ]
    if len(labels) == 1:
        other = next(
            (d for d in (";", ",", "\t", "|") if d != spec.delimiter and d in labels[0]), None
        )
        if other:
            raise FileLayoutError(
                path,
                f"the header has one column: the file seems separated by {other!r}, the "
                f"spec says {spec.delimiter!r}",
                row=head_at + 1,
            )
    records, problems, numbers = [], {}, []
    body = head_at + spec.header_rows
    for fields, (line, _) in zip(lines[body:], starts[body:], strict=True):
        if fields and len(fields) != len(labels) and any(f.strip() for f in fields):
            problems[line] = [
                f"the row has {len(fields)} fields, the header {len(labels)} (a truncated "
                "or shifted row?)"
            ]
        records.append((fields + [""] * len(labels))[: len(labels)])
        numbers.append(line)  # the line the record starts on, whatever line breaks it holds
    frame = pd.DataFrame(records, columns=labels, dtype=object)
    return Table(frame, numbers, problems)


def _refuse_unbalanced_quote(
    spec: SourceSpec, path: Path, fields: list[str], start: int, end: int, text: str
) -> None:
    """A quoted field that runs over several lines and swallows what looks like whole rows
    (text with the delimiter after a line break), or runs to the end of the file, is an
    unbalanced quote: the file is refused at the line where the field opened."""
    for cell in fields:
        if "\n" not in cell and "\r" not in cell:
            continue
        swallowed = cell.split("\n", 1)[-1]
        at_end = end >= text.count("\n") + (0 if text.endswith("\n") else 1)
        if spec.delimiter in swallowed or at_end:
            raise FileLayoutError(
                path,
                N_(
                    "a quoted field opened on this line runs to line {end}: an unbalanced "
                    "quote (a '\"' that is never closed) joins those lines into one row; close "
                    "the quote or remove it"
                ).format(end=end),
                row=start,
            )


def text_line_of(path: Path, offset: int) -> int:
    return path.read_bytes()[:offset].count(b"\n") + 1


def _read_excel(spec: SourceSpec, path: Path) -> Table:
    check_workbook(path, spec.format)
    sheet = read_sheet(path, spec.sheet, header=None)
    top = spec.skip_rows
    head = sheet.iloc[top : top + spec.header_rows]
    if len(head) < spec.header_rows:
        raise FileLayoutError(path, f"sheet {spec.sheet!r} has no header", row=top + 1)
    head = head.ffill(axis=1) if spec.header_rows > 1 else head
    labels = [" ".join(str(v).strip() for v in head[c] if not _is_blank(v)) for c in head.columns]
    body = sheet.iloc[top + spec.header_rows :].copy()
    body.columns = labels
    first = top + spec.header_rows + 1
    problems = _formulas(spec, path, labels, first) if has_formulas(path) else {}
    return Table(body, list(range(first, first + len(body))), problems)


def _formulas(spec: SourceSpec, path: Path, labels: list[str], first: int) -> dict:
    """Cells holding a formula: its value is whatever the sender's spreadsheet last computed,
    if it saved one at all. Such rows are refused with the formula named."""
    import openpyxl
    from openpyxl.cell.cell import ERROR_CODES

    book = openpyxl.load_workbook(path, read_only=True, data_only=False)
    sheet = book.worksheets[spec.sheet] if isinstance(spec.sheet, int) else book[spec.sheet]
    problems: dict[int, list[str]] = {}
    for number, row in enumerate(sheet.iter_rows(min_row=first, values_only=True), start=first):
        for index, value in enumerate(row):
            if not isinstance(value, str) or index >= len(labels):
                continue
            if value.startswith("="):
                problems.setdefault(number, []).append(
                    f"column {labels[index]!r}: holds the formula {_short(value)!r}; send "
                    "values, not formulas"
                )
            elif value in ERROR_CODES:
                problems.setdefault(number, []).append(
                    f"column {labels[index]!r}: holds the spreadsheet error {value!r} (a "
                    "formula that failed), not a value"
                )
    book.close()
    return problems


def _short(value: Any) -> str:
    text = str(value)
    return text if len(text) <= 60 else f"{text[:57]}... ({len(text):,} characters)"


def period_of(spec: SourceSpec, year: str, quarter: str | None, month: str | None) -> str:
    """An SDMX time period: 2019, 2019-Q1, 2019-01."""
    y = int(year)
    if not 1900 <= y <= 2100:
        raise ValueError(f"year {year!r} out of range")
    if spec.period.frequency == "quarter":
        q = int(re.sub(r"\D", "", quarter or ""))
        if not 1 <= q <= 4:
            raise ValueError(f"quarter {quarter!r} out of range")
        return f"{y}-Q{q}"
    if spec.period.frequency == "month":
        m = int(month or 0)
        if not 1 <= m <= 12:
            raise ValueError(f"month {month!r} out of range")
        return f"{y}-{m:02d}"
    return str(y)


NOT_A_PERIOD = {
    "year": N_("{text!r} is not a year (four digits, e.g. 2024)"),
    "quarter": N_("{text!r} is not a quarter of a year"),
    "month": N_("{text!r} is not a month of a year"),
}

#: Excel counts days from 1899-12-30; serials 29221-73050 are the years 1980-2099.
EXCEL_EPOCH = date(1899, 12, 30)


def row_period_of(spec: SourceSpec, cell: Any) -> tuple[str | None, str | None]:
    """The period a cell gives: the whole cell must match the spec's pattern (`20199` is not
    2019). A date-formatted cell gives its month or quarter, never a year by accident; an Excel
    date serial number is named as such. Returns (period, None) or (None, problem)."""
    what = spec.period.frequency
    if _is_blank(cell):
        return None, N_("is empty (a {what} is needed)").format(what=what)
    if isinstance(cell, datetime | date):
        if what == "year":
            return None, N_(
                "holds the date {day}, not a year: the cell is formatted as a date; "
                "type the year as a number"
            ).format(day=f"{cell:%Y-%m-%d}")
        quarter, month = f"{(cell.month - 1) // 3 + 1}", f"{cell.month}"
        return period_of(spec, str(cell.year), quarter, month), None
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    text = str(cell).strip()
    found = spec_pattern(spec.period.pattern).fullmatch(text)
    if found is None:
        if re.fullmatch(r"\d{5}(\.0+)?", text) and 29_221 <= float(text) <= 73_050:
            day = EXCEL_EPOCH + timedelta(days=int(float(text)))
            return None, N_(
                "{text!r} looks like an Excel date serial number ({day}); type the "
                "{what} itself, not a date"
            ).format(text=text, day=f"{day:%Y-%m-%d}", what=what)
        return None, NOT_A_PERIOD[what].format(text=_short(text))
    groups = found.groupdict()
    try:
        return period_of(spec, groups["year"], groups.get("quarter"), groups.get("month")), None
    except (TypeError, ValueError) as err:
        return None, str(err)


def _period_from(spec: SourceSpec, regex: str, text: str) -> str | None:
    found = spec_pattern(regex).search(text)
    if not found:
        return None
    groups = found.groupdict()
    return period_of(spec, groups["year"], groups.get("quarter"), groups.get("month"))


class CodeMapper:
    """Labels of one column -> codes, by the spec's map first, then the codes or country names
    the column declares."""

    def __init__(self, column: ColumnSpec):
        self.exact = {str(k).strip(): v for k, v in column.codes.items()}
        self.folded = {normalise_label(k): v for k, v in column.codes.items()}
        self.names = country_names(column.country_names) if column.country_names else {}
        self.code_list = column.code_list
        self.language = column.country_names

    def problem(self, label: Any) -> str:
        """Why a label has no code, in plain words, with the closest labels the column knows."""
        if _is_blank(label):
            return N_("is empty (a merged cell, or a missing label?)")
        text = str(label).strip()
        if text[0] in "=+@" or (text[0] == "-" and not text[1:2].isdigit()):
            return N_("{text!r} looks like a spreadsheet formula; refused").format(
                text=_short(text)
            )
        if self.code_list:
            return N_("{text!r} is not a code of the list this column uses ({kind})").format(
                text=_short(text), kind=CODE_LISTS[self.code_list]
            )
        close = self.closest(text)
        if self.language and close:
            return N_("{text!r} is not a country this column knows; did you mean {close}?").format(
                text=_short(text), close=" / ".join(close)
            )
        if self.language:
            return N_("{text!r} is not a country this column knows").format(text=_short(text))
        if close:
            return N_("{text!r} is not one of this column's labels; did you mean {close}?").format(
                text=_short(text), close=" / ".join(close)
            )
        return N_("{text!r} is not one of this column's labels ({labels})").format(
            text=_short(text), labels=", ".join(list(self.exact)[:12])
        )

    def closest(self, text: str, count: int = 3) -> list[str]:
        """The labels closest to a misspelt one (the column's own, then country names)."""
        import difflib

        labels = list(self.exact)
        if self.language:
            from sources.templates import country_labels

            labels += country_labels(self.language)
        folded = {normalise_label(x): x for x in labels}
        found = difflib.get_close_matches(normalise_label(text), list(folded), n=count, cutoff=0.8)
        return [folded[x] for x in found]

    def __call__(self, label: Any) -> str | None:
        text = "" if _is_blank(label) else str(label).strip()
        if text in self.exact:
            return self.exact[text]
        key = normalise_label(text)
        found = self.folded.get(key) or self.names.get(key)
        if found is None and self.code_list and text:
            found = code_from_list(self.code_list, text)
        return found


CODE_LISTS = {
    "iso3": "ISO 3166-1 alpha-3",
    "iso2": "ISO 3166-1 alpha-2",
    "m49": "UN M49",
}


def code_from_list(kind: str, text: str) -> str | None:
    """An ISO3 code from a cell holding an alpha-3, alpha-2 or M49 code."""
    import pycountry

    from sources.geography import code_from_m49, known_codes

    if kind == "iso3":
        code = text.upper()
        return code if code in known_codes() else None
    if kind == "iso2":
        country = pycountry.countries.get(alpha_2=text.upper()) if len(text) == 2 else None
        return country.alpha_3 if country else None
    try:
        value = float(text)
    except ValueError:
        return None
    return code_from_m49(int(value)) if value.is_integer() else None


def parse_value(spec: SourceSpec, cell: Any) -> tuple[float | None, str | None]:
    """A number in the spec's locale; blank is missing; anything else is a problem."""
    if _is_blank(cell):
        return None, None
    numeric = cell_number(cell)
    if numeric is not None:
        return numeric
    text = str(cell).strip().replace("\u00a0", " ").replace("\u202f", " ")
    if text in ("-", "..", "…", "x"):
        return None, None
    if spec.thousands:
        text = text.replace(spec.thousands, "")
    if spec.decimal != ".":
        if "." in text and spec.thousands != ".":
            mark = spec.decimal
            return None, N_("{text!r} has '.', but this file's decimal mark is {mark!r}").format(
                text=_short(cell), mark=mark
            )
        text = text.replace(spec.decimal, ".")
    try:
        if "_" in text:  # Python would read 1_000 as 1000; a statistics file never means that
            raise ValueError(text)
        value = float(text)
    except ValueError:
        return None, N_("{text!r} is not a number").format(text=_short(cell))
    return checked_number(value, cell)


def period_in_name(spec: SourceSpec, path: Path) -> str | None:
    """The reference period the file name gives, for specs that take it from there."""
    if not spec.period.from_filename:
        return None
    try:
        return _period_from(spec, spec.period.from_filename, spec.name_as_sent(path.name))
    except ValueError:
        return None


def read_submission(spec: SourceSpec, path: Path, period: str | None = None) -> RawRead:
    """Read a file by its spec into long cells; rows that cannot be read are rejected whole.
    What a library warns about while reading reaches the batch notes in EMP's words."""
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        result = _read_submission(spec, path, period)
    for warning in caught:
        text = " ".join(str(warning.message).split())[:300] or warning.category.__name__
        result.notes.append(N_("while reading the file: {text}").format(text=text))
    return result


def _read_submission(spec: SourceSpec, path: Path, period: str | None = None) -> RawRead:
    read = read_table(spec, path)
    table, rows = read.frame, read.rows
    file_period = None
    if spec.period.from_filename:
        file_period = period or _period_from(
            spec, spec.period.from_filename, spec.name_as_sent(path.name)
        )
        if file_period is None:
            from sources.templates import TemplateError, text_for

            try:
                example = text_for(spec.period.from_filename, "2024")
            except TemplateError:
                example = spec.file_pattern
            raise FileLayoutError(
                path,
                N_(
                    "the file name does not give the period: name the file like {example}, "
                    "or give the period (emp check --period 2024)"
                ).format(example=example),
            )
    if spec.period.columns:
        period_columns = {}
        for c in table.columns:
            if spec_pattern(spec.period.columns).fullmatch(str(c).strip()):
                period_columns[c] = _period_from(spec, spec.period.columns, str(c).strip())
            elif spec_pattern(spec.period.columns).search(str(c)):
                raise FileLayoutError(
                    path,
                    f"the header {_short(c)!r} holds a period but is not one whole "
                    f"({spec.period.columns!r})",
                    row=spec.skip_rows + spec.header_rows,
                    column=str(c),
                )
        value_columns = [(spec.period.measure, c, p) for c, p in period_columns.items()]
    else:
        value_columns = [(name, m.column or name, None) for name, m in spec.measures.items()]
    selectors = sorted({c for m in spec.measures.values() for c in m.rows})
    expected = list(spec.columns) + ([spec.period.column] if spec.period.column else [])
    expected += [] if spec.period.columns else sorted({c for _, c, _ in value_columns})
    expected += [c for c in selectors if c not in expected]
    missing = [c for c in expected if c not in table.columns]
    if missing or not value_columns:
        header_row = spec.skip_rows + spec.header_rows
        encoding = other_encoding(spec, path, missing)
        if encoding:
            raise FileLayoutError(
                path,
                N_(
                    "the file is saved in the {found} encoding, but this dataset is read in "
                    "{expected}, so its headers come out garbled; save it again as {expected}"
                ).format(found=encoding, expected=spec.encoding),
                row=header_row,
            )
        names = ", ".join(f"'{c}'" for c in table.columns)
        if missing:
            raise FileLayoutError(
                path,
                N_("the columns {missing} are missing; the file's columns are {found}").format(
                    missing=", ".join(f"'{c}'" for c in missing), found=names
                ),
                row=header_row,
            )
        raise FileLayoutError(
            path,
            N_("no column header gives a period; the file's columns are {found}").format(
                found=names
            ),
            row=header_row,
        )
    mappers = {name: CodeMapper(col) for name, col in spec.columns.items()}
    # An Open SDG file may carry disaggregations the spec does not map: their rows are not
    # the series the spec reads (they are noted, not quarantined).
    unmapped = (
        [c for c in table.columns if c not in {*expected, "Year", "Value"} and str(c).strip()]
        if spec.open_sdg
        else []
    )
    by_dimension: dict[str, list[str]] = {}
    for name, column in spec.columns.items():
        by_dimension.setdefault(column.dimension, []).append(name)
    result = RawRead(frame=pd.DataFrame())
    dropped: dict[tuple[str, str, str], list[int]] = {}
    unselected: list[int] = []
    empty: list[int] = []
    cells = []
    for position, record in enumerate(table.to_dict(orient="records")):
        source_row = rows[position]
        drop = next(
            (
                (name, str(record[name]).strip(), column.drop[str(record[name]).strip()])
                for name, column in spec.columns.items()
                if not _is_blank(record[name]) and str(record[name]).strip() in column.drop
            ),
            None,
        )
        if drop is None and unmapped:
            other = next((c for c in unmapped if not _is_blank(record[c])), None)
            if other is not None:
                label = str(record[other]).strip()
                drop = (other, label, N_("a disaggregation the spec does not map"))
        if drop is not None:
            dropped.setdefault(drop, []).append(source_row)
            continue
        reasons = list(read.row_problems.get(source_row, []))
        dims = {d: spec.constants.get(d, TOTAL) for d in DIMENSIONS}
        for dimension, names in by_dimension.items():
            given = {}
            for name in names:
                column = spec.columns[name]
                if column.blank is not None and _is_blank(record[name]):
                    continue
                code = mappers[name](record[name])
                if code is None:
                    reasons.append(
                        N_("column {name!r}: {problem}").format(
                            name=name, problem=mappers[name].problem(record[name])
                        )
                    )
                else:
                    given[name] = code
            if len(given) > 1:
                reasons.append(
                    f"columns {' and '.join(repr(n) for n in given)} both give the {dimension} "
                    f"({', '.join(map(str, given.values()))}); one of them must be empty"
                )
            elif given:
                dims[dimension] = next(iter(given.values()))
            elif names and all(spec.columns[n].blank is not None for n in names):
                dims[dimension] = spec.columns[names[0]].blank
        row_period = file_period
        if spec.period.column:
            row_period, problem = row_period_of(spec, record[spec.period.column])
            if problem:
                reasons.append(
                    N_("column {name!r}: {problem}").format(
                        name=spec.period.column, problem=problem
                    )
                )
        values = []
        selected = False
        for measure, column, column_period in value_columns:
            if not _selected(spec.measures[measure].rows, record):
                continue
            selected = True
            value, problem = parse_value(spec, record[column])
            if not problem and value is not None and _is_count(spec.measures[measure]):
                problem = count_problem(record[column], value)
            if problem:
                reasons.append(
                    N_("column {name!r}: {problem}").format(name=column, problem=problem)
                )
            elif (
                value is not None
                and value < 0
                and spec.measures[measure].stat_type in ("stock", "flow")
            ):
                reasons.append(
                    N_("column {name!r}: {problem}").format(
                        name=column,
                        problem=N_(
                            "{value!r} is negative: a count of persons or an amount cannot be"
                        ).format(value=record[column]),
                    )
                )
            elif value is not None:
                values.append((measure, column_period or row_period, value))
        if not selected:
            unselected.append(source_row)
            continue
        if not values and not reasons:
            empty.append(source_row)  # every value blank or a missing-value mark
            continue
        if reasons:
            result.reject(source_row, _jsonable(record), reasons)
            continue
        text = json.dumps(_jsonable(record), ensure_ascii=False)
        for measure, period, value in values:
            cells.append(
                {
                    "source_row": source_row,
                    "record": text,
                    "series": spec.measures[measure].series,
                    "time_period": period,
                    **dims,
                    **spec.measures[measure].dimensions,
                    "value": value,
                }
            )
    for (name, label, why), numbers in dropped.items():
        result.notes.append(
            N_(
                "{count} row(s) with {label!r} in column {name!r} left out on purpose: {why} "
                "(rows {rows})"
            ).format(count=len(numbers), label=label, name=name, why=why, rows=_row_list(numbers))
        )
    if unselected:
        result.notes.append(
            f"{len(unselected)} row(s) selected by no measure (rows {_row_list(unselected)})"
        )
    if empty:
        result.notes.append(no_value_note(empty))
    frame = pd.DataFrame(cells, columns=list(RAW_COLUMNS))
    frame = _areas_as_of_period(spec, frame)
    frame = _sum_labels(spec, frame, result)
    result.frame = frame
    result.frame["value"] = result.frame["value"].astype("float64")
    result.frame["source_row"] = result.frame["source_row"].astype("int64")
    return result


def _is_count(measure) -> bool:
    """A measure counting persons one by one (not in thousands, not a ratio)."""
    return measure.unit == "PS" and measure.unit_mult == 0 and measure.stat_type != "ratio"


def count_problem(cell: Any, value: float) -> str | None:
    """Why a cell cannot be a count of persons: a fraction, or a number in exponent form
    (`4.297e3`, which a spreadsheet writes for a rounded or computed value)."""
    if isinstance(cell, str) and ("e" in cell.lower()) and not cell.strip().isdigit():
        return N_("{text!r} is a count written with an exponent; write the count in full").format(
            text=_short(cell)
        )
    if not float(value).is_integer():
        return N_("{text!r} is a count of persons with a fraction").format(text=_short(cell))
    return None


def _selected(rows: dict[str, list[str]], record: dict) -> bool:
    """Whether a record is one of the rows a measure reads (every listed column matches)."""
    for column, labels in rows.items():
        cell = "" if _is_blank(record[column]) else str(record[column]).strip()
        if cell not in {str(label).strip() for label in labels}:
            return False
    return True


def _row_list(numbers: list[int]) -> str:
    shown = ", ".join(str(n) for n in numbers[:10])
    return shown + (f" and {len(numbers) - 10} more" if len(numbers) > 10 else "")


def period_end(period: str) -> date:
    """The last day of an SDMX period: 2019 -> 2019-12-31, 2019-Q2 -> 2019-06-30."""
    year = int(period[:4])
    if "-Q" in period:
        month = int(period[-1]) * 3
    elif len(period) == 7:
        month = int(period[5:7])
    else:
        month = 12
    following = date(year + (month == 12), month % 12 + 1, 1)
    return following - timedelta(days=1)


def _areas_as_of_period(spec: SourceSpec, frame: pd.DataFrame) -> pd.DataFrame:
    """Area codes of `as_of_period` columns -> the area valid at the end of each period."""
    from sources.geography import area_valid_on

    for column in spec.columns.values():
        if not column.as_of_period or frame.empty:
            continue
        dimension = column.dimension
        pairs = frame[[dimension, "time_period"]].drop_duplicates()
        mapped = {
            (code, period): area_valid_on(code, period_end(period))
            for code, period in pairs.itertuples(index=False)
        }
        frame[dimension] = [
            mapped[(c, p)] for c, p in zip(frame[dimension], frame["time_period"], strict=True)
        ]
    return frame


def _sum_labels(spec: SourceSpec, frame: pd.DataFrame, result: RawRead) -> pd.DataFrame:
    """Cells that fall on one key because several labels map to one code (declared with
    `sum_labels`, or areas mapped back to the area of their time) are added up; the sum is
    recorded in the batch's notes and in the cell's record."""
    if frame.empty or not any(c.sum_labels or c.as_of_period for c in spec.columns.values()):
        return frame
    key = ["series", "time_period", *DIMENSIONS]
    counts = frame.groupby(key, dropna=False)["value"].transform("size")
    single, several = frame[counts == 1], frame[counts > 1]
    if several.empty:
        return frame
    summed = several.groupby(key, dropna=False, as_index=False).agg(
        source_row=("source_row", "min"),
        record=("record", lambda r: json.dumps([json.loads(x) for x in r], ensure_ascii=False)),
        value=("value", "sum"),
        rows=("source_row", lambda r: sorted(set(r))),
    )
    merged = summed.groupby(key[2:], dropna=False)["rows"].agg(
        lambda r: sorted({n for rows in r for n in rows})
    )
    for dims, numbers in merged.items():
        codes = [d for d in (dims if isinstance(dims, tuple) else (dims,)) if d != TOTAL]
        result.notes.append(
            f"rows {_row_list(numbers)} add up into one value for {'/'.join(codes)} "
            "(several labels, one code)"
        )
    summed = summed.drop(columns="rows")
    return pd.concat([single, summed[list(RAW_COLUMNS)]], ignore_index=True)


def _jsonable(record: dict) -> dict:
    return {str(k): (None if _is_blank(v) else str(v)) for k, v in record.items()}


def harmonise_submission(spec: SourceSpec):
    """The harmoniser for a spec's raw cells: units, basis and status from the measures."""
    by_series = {m.series: m for m in spec.measures.values()}

    def harmonise(raw: pd.DataFrame) -> pd.DataFrame:
        raw = raw[raw["series"].isin(list(by_series))]  # a series the spec no longer declares
        measure = raw["series"].map(by_series)
        frame = raw[["series", "time_period", *DIMENSIONS, "source_row"]].copy()
        frame["obs_value"] = raw["value"]
        frame["unit_measure"] = measure.map(lambda m: m.unit)
        frame["unit_mult"] = measure.map(lambda m: m.unit_mult)
        frame["basis"] = measure.map(lambda m: m.basis)
        return observations(frame)

    return harmonise
