"""Reading a ministry submission by its spec: layout, codes, period, measures -> long cells."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pandas as pd

from sources.geography import country_names, normalise_label
from sources.observations import TOTAL, FileLayoutError, RawRead, observations
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


def read_table(spec: SourceSpec, path: Path) -> tuple[pd.DataFrame, list[int]]:
    """The file's data rows with their header labels, and the file row number of each."""
    if spec.format == "csv":
        frame, first_row = _read_csv(spec, path)
    elif spec.format == "parquet":
        frame = pd.read_parquet(path).astype(object)
        first_row = 1
    else:
        frame, first_row = _read_excel(spec, path)
    rows = list(range(first_row, first_row + len(frame)))
    if spec.stop_at_blank_row and len(frame):
        blank = frame.apply(lambda r: all(_is_blank(v) for v in r), axis=1)
        if blank.any():
            cut = int(blank.to_numpy().argmax())
            frame, rows = frame.iloc[:cut], rows[:cut]
    return frame.reset_index(drop=True), rows


def _is_blank(value: Any) -> bool:
    return (
        value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() == ""
    )


def _read_csv(spec: SourceSpec, path: Path) -> tuple[pd.DataFrame, int]:
    try:
        with open(path, encoding=spec.encoding, newline="") as fh:
            text = fh.read()
    except UnicodeDecodeError as err:
        line = text_line_of(path, err.start)
        raise FileLayoutError(
            path,
            f"not readable as {spec.encoding} (the spec's encoding): byte "
            f"{err.object[err.start : err.start + 1]!r} at offset {err.start}",
            row=line,
        ) from err
    if text.startswith("\ufeff"):
        text = text[1:]
    if not text.strip():
        raise FileLayoutError(path, "the file is empty")
    from io import StringIO

    header = list(range(spec.header_rows)) if spec.header_rows > 1 else 0
    try:
        frame = pd.read_csv(
            StringIO(text),
            sep=spec.delimiter,
            skiprows=spec.skip_rows,
            header=header,
            dtype=str,
            keep_default_na=False,
            skip_blank_lines=False,
        )
    except pd.errors.ParserError as err:
        raise FileLayoutError(path, f"not a {spec.delimiter!r}-separated table: {err}") from err
    frame.columns = _labels(frame.columns)
    return frame, spec.skip_rows + spec.header_rows + 1


def text_line_of(path: Path, offset: int) -> int:
    return path.read_bytes()[:offset].count(b"\n") + 1


def _read_excel(spec: SourceSpec, path: Path) -> tuple[pd.DataFrame, int]:
    try:
        sheet = pd.read_excel(path, sheet_name=spec.sheet, header=None, dtype=object)
    except ValueError as err:
        raise FileLayoutError(path, f"no sheet {spec.sheet!r}: {err}") from err
    top = spec.skip_rows
    head = sheet.iloc[top : top + spec.header_rows]
    if len(head) < spec.header_rows:
        raise FileLayoutError(path, f"sheet {spec.sheet!r} has no header", row=top + 1)
    head = head.ffill(axis=1) if spec.header_rows > 1 else head
    labels = [" ".join(str(v).strip() for v in head[c] if not _is_blank(v)) for c in head.columns]
    body = sheet.iloc[top + spec.header_rows :].copy()
    body.columns = labels
    return body, top + spec.header_rows + 1


def _labels(columns: pd.Index) -> list[str]:
    if isinstance(columns, pd.MultiIndex):
        return [
            " ".join(p for p in map(str, parts) if p and not p.startswith("Unnamed"))
            for parts in columns
        ]
    return [str(c).strip() for c in columns]


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


def _period_from(spec: SourceSpec, regex: str, text: str) -> str | None:
    found = re.search(regex, text)
    if not found:
        return None
    groups = found.groupdict()
    return period_of(spec, groups["year"], groups.get("quarter"), groups.get("month"))


class CodeMapper:
    """Labels of one column -> codes, by the spec's map first, then country names."""

    def __init__(self, column: ColumnSpec):
        self.exact = {str(k).strip(): v for k, v in column.codes.items()}
        self.folded = {normalise_label(k): v for k, v in column.codes.items()}
        self.names = country_names(column.country_names) if column.country_names else {}
        self.what = (
            f"a known country name ({column.country_names})"
            if column.country_names
            else "in the spec's code list"
        )

    def __call__(self, label: Any) -> str | None:
        text = "" if _is_blank(label) else str(label).strip()
        if text in self.exact:
            return self.exact[text]
        key = normalise_label(text)
        return self.folded.get(key) or self.names.get(key)


def parse_value(spec: SourceSpec, cell: Any) -> tuple[float | None, str | None]:
    """A number in the spec's locale; blank is missing; anything else is a problem."""
    if _is_blank(cell):
        return None, None
    if isinstance(cell, int | float) and not isinstance(cell, bool):
        return float(cell), None
    text = str(cell).strip().replace("\u00a0", " ").replace("\u202f", " ")
    if text in ("-", "..", "…", "x"):
        return None, None
    if spec.thousands:
        text = text.replace(spec.thousands, "")
    if spec.decimal != ".":
        if "." in text and spec.thousands != ".":
            return None, f"{cell!r} has '.', but this file's decimal mark is {spec.decimal!r}"
        text = text.replace(spec.decimal, ".")
    try:
        return float(text), None
    except ValueError:
        return None, f"{cell!r} is not a number"


def period_in_name(spec: SourceSpec, path: Path) -> str | None:
    """The reference period the file name gives, for specs that take it from there."""
    if not spec.period.from_filename:
        return None
    try:
        return _period_from(spec, spec.period.from_filename, path.name)
    except ValueError:
        return None


def read_submission(spec: SourceSpec, path: Path) -> RawRead:
    """Read a file by its spec into long cells; rows that cannot be read are rejected whole."""
    table, rows = read_table(spec, path)
    file_period = None
    if spec.period.from_filename:
        file_period = _period_from(spec, spec.period.from_filename, path.name)
        if file_period is None:
            raise FileLayoutError(
                path, f"the file name does not give the period ({spec.period.from_filename!r})"
            )
    if spec.period.columns:
        period_columns = {
            c: _period_from(spec, spec.period.columns, c)
            for c in table.columns
            if re.search(spec.period.columns, c)
        }
        value_columns = {c: (spec.period.measure, p) for c, p in period_columns.items()}
    else:
        value_columns = {c: (c, None) for c in spec.measures}
    expected = list(spec.columns) + ([spec.period.column] if spec.period.column else [])
    expected += [] if spec.period.columns else list(spec.measures)
    missing = [c for c in expected if c not in table.columns]
    if missing or not value_columns:
        header_row = spec.skip_rows + spec.header_rows
        raise FileLayoutError(
            path,
            f"missing columns {missing or ['(period columns ' + spec.period.columns + ')']}; "
            f"found {list(table.columns)}",
            row=header_row,
        )
    mappers = {name: CodeMapper(col) for name, col in spec.columns.items()}
    result = RawRead(frame=pd.DataFrame())
    cells = []
    for position, record in enumerate(table.to_dict(orient="records")):
        source_row = rows[position]
        reasons, dims = [], {d: spec.constants.get(d, TOTAL) for d in DIMENSIONS}
        for name, column in spec.columns.items():
            code = mappers[name](record[name])
            if code is None:
                reasons.append(f"column {name!r}: {record[name]!r} is not {mappers[name].what}")
            else:
                dims[column.dimension] = code
        row_period = file_period
        if spec.period.column:
            try:
                row_period = _period_from(
                    spec, spec.period.pattern, str(record[spec.period.column])
                )
            except ValueError as err:
                row_period, reasons = None, [*reasons, f"column {spec.period.column!r}: {err}"]
            if row_period is None and not reasons:
                reasons.append(
                    f"column {spec.period.column!r}: {record[spec.period.column]!r} is not a "
                    f"{spec.period.frequency}"
                )
        values = []
        for column, (measure, column_period) in value_columns.items():
            value, problem = parse_value(spec, record[column])
            if problem:
                reasons.append(f"column {column!r}: {problem}")
            elif (
                value is not None
                and value < 0
                and spec.measures[measure].stat_type in ("stock", "flow")
            ):
                reasons.append(f"column {column!r}: {record[column]!r} is negative")
            elif value is not None:
                values.append((measure, column_period or row_period, value))
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
    result.frame = pd.DataFrame(cells, columns=list(RAW_COLUMNS))
    result.frame["value"] = result.frame["value"].astype("float64")
    result.frame["source_row"] = result.frame["source_row"].astype("int64")
    return result


def _jsonable(record: dict) -> dict:
    return {str(k): (None if _is_blank(v) else str(v)) for k, v in record.items()}


def harmonise_submission(spec: SourceSpec):
    """The harmoniser for a spec's raw cells: units, basis and status from the measures."""
    by_series = {m.series: m for m in spec.measures.values()}

    def harmonise(raw: pd.DataFrame) -> pd.DataFrame:
        measure = raw["series"].map(by_series)
        frame = raw[["series", "time_period", *DIMENSIONS, "source_row"]].copy()
        frame["obs_value"] = raw["value"]
        frame["unit_measure"] = measure.map(lambda m: m.unit)
        frame["unit_mult"] = measure.map(lambda m: m.unit_mult)
        frame["basis"] = measure.map(lambda m: m.basis)
        return observations(frame)

    return harmonise
