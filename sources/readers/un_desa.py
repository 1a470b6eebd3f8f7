"""UN DESA International Migrant Stock, any edition (2019, 2020, 2024...), by destination or by
destination and origin.

Nothing about one edition is fixed here. In each `Table N` sheet the header row is found by its
labels (`Code`, `Location code` or `Location code of destination`, and the area column), the years
or periods (`2019`, `2015-2020`) on that row or the next, and the measure of each column from
the block title above it (`..., both sexes combined`, `..., males`, `..., females`) or, failing
one, the sheet's title. Areas are identified by their M49 code, never by their names (which carry
indents and footnote asterisks). Sheets that are not tables (`Table of contents`, `ANNEX`,
`NOTES`) are skipped. Missing values are `..`; aggregates (WORLD, regions, income groups) carry
M49 codes of 900 and above and are kept apart from countries.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from sources.excel import column_letter, read_sheet
from sources.geography import code_from_m49
from sources.observations import (
    MISSING_MARKERS,
    FileLayoutError,
    RawRead,
    observations,
    parse_number,
)
from sources.publishers.peek import Peek, cell_text

TABLE_SHEET = re.compile(r"^\s*table\s*\d+\s*$", re.I)
HEADER_SEARCH_ROWS = 40
_PERIOD = re.compile(r"^(\d{4})(?:\s*[-–/]\s*(\d{4}))?$")
_CODE = re.compile(r"^(?:location\s+)?code(?:\s+of\s+(destination|origin))?$|^locid$", re.I)
_FOOTNOTE = re.compile(r"\s*(\([a-z]\)|\*+)\s*$", re.I)
_EDITION = (
    re.compile(r"International Migrant Stock[,:]?\s+(\d{4})", re.I),
    re.compile(r"Stock/Rev\.\s*(\d{4})", re.I),
)

#: (words the measure text must contain, series, unit), first match wins
MEASURES: tuple[tuple[tuple[str, ...], str, str], ...] = (
    (("refugee", "percentage"), "IMS_REFUGEES_PCT_STOCK", "PT"),
    (("refugee", "rate of change"), "IMS_REFUGEES_GROWTH", "PT"),
    (("refugee",), "IMS_REFUGEES", "PS"),
    (("rate of change",), "IMS_GROWTH", "PT"),
    (("female migrants", "percentage"), "IMS_FEMALE_PCT", "PT"),
    (("percentage of the total population",), "IMS_STOCK_PCT_POP", "PT"),
    (("total population",), "IMS_POP", "PS"),
    (("total", "population at mid-year"), "IMS_POP", "PS"),
    (("migrant stock",), "IMS_STOCK", "PS"),
)

BASIS = {"B": "foreign_born", "C": "foreign_citizen"}


@dataclass(frozen=True)
class SheetLayout:
    """Where things are in one table sheet (0-based rows and columns)."""

    header_row: int
    period_row: int
    code: int
    area: int
    notes: int | None
    type_of_data: int | None
    sort_order: int | None
    origin_code: int | None
    origin_area: int | None
    data_columns: tuple[int, ...]
    titles: tuple[str, ...]  # the block title of each data column ('' if none)
    sheet_title: str


def _label(cell: object) -> str:
    return _FOOTNOTE.sub("", cell_text(cell)).strip()


def _is_period(cell: object) -> bool:
    text = cell_text(cell)
    return bool(_PERIOD.match(text)) and 1900 <= int(text[:4]) <= 2100


def find_layout(table: pd.DataFrame) -> SheetLayout | None:
    """The layout of a table sheet, found by its labels; None if the sheet has no such header."""
    for r in range(min(HEADER_SEARCH_ROWS, len(table))):
        labels = [_label(c).lower() for c in table.iloc[r]]
        codes = {i: _CODE.match(text) for i, text in enumerate(labels) if _CODE.match(text)}
        areas = [i for i, text in enumerate(labels) if "country or area" in text]
        if not codes or not areas:
            continue
        origin_code = next((i for i, m in codes.items() if m.group(1) == "origin"), None)
        code = next(i for i in codes if i != origin_code)
        origin_area = next((i for i in areas if "of origin" in labels[i]), None)
        area = next(i for i in areas if i != origin_area)

        def first(prefix: str, labels=labels, after: int = -1) -> int | None:
            return next(
                (i for i, t in enumerate(labels) if t.startswith(prefix) and i > after), None
            )

        period_row = _period_row(table, r)
        if period_row is None:
            return None
        ids = {code, area, origin_code, origin_area}
        data = tuple(
            i for i, cell in enumerate(table.iloc[period_row]) if i not in ids and _is_period(cell)
        )
        return SheetLayout(
            header_row=r,
            period_row=period_row,
            code=code,
            area=area,
            notes=first("notes"),
            type_of_data=first("type of data"),
            sort_order=first("sort order") if first("sort order") is not None else first("index"),
            origin_code=origin_code,
            origin_area=origin_area,
            data_columns=data,
            titles=_block_titles(table, period_row, r, data),
            sheet_title=_sheet_title(table, r),
        )
    return None


def _period_row(table: pd.DataFrame, header_row: int) -> int | None:
    counts = {
        row: sum(_is_period(c) for c in table.iloc[row])
        for row in (header_row, header_row + 1)
        if row < len(table)
    }
    best = max(counts, key=lambda row: counts[row], default=None)
    return best if best is not None and counts[best] else None


def _block_titles(
    table: pd.DataFrame, period_row: int, header_row: int, data: tuple[int, ...]
) -> tuple[str, ...]:
    """The title over each data column: the nearest row above the periods (at most two rows up)
    with text over them, carried right across merged cells."""
    for row in range(period_row - 1, max(header_row - 3, -1), -1):
        cells = [cell_text(table.iat[row, c]) for c in data]
        if any(cells) and not any(_is_period(c) for c in cells if c):
            carried, last = [], ""
            for cell in cells:
                last = cell or last
                carried.append(last)
            return tuple(carried)
    return tuple("" for _ in data)


def _sheet_title(table: pd.DataFrame, header_row: int) -> str:
    texts = [cell_text(c) for r in range(header_row) for c in table.iloc[r] if cell_text(c)]
    titled = [t for t in texts if re.match(r"^table\s*\d+", t, re.I)]
    return titled[0] if titled else max(texts, key=len, default="")


#: words that make a title a rate or a share, never a count of persons
_RATE_WORDS = re.compile(r"\b(rate|growth|change|per\s*cent|percent|percentage|share|ratio)\b|%")
#: what a block title may say beside the measure of its sheet: the sex it covers
_SEX_ONLY = re.compile(r"\b(both|sexes|combined|total|males?|females?|men|women)\b|[(),:;.\s-]+")


def measure_of(block_title: str, sheet_title: str) -> tuple[str, str, int, str] | None:
    """(series, unit, unit_mult, sex) of a data column, from its block title, or from the
    sheet's title where the block title names no more than a sex; None for a measure EMP does
    not read. A title that speaks of a rate or a share is never read as a count."""
    texts = [block_title]
    if not _SEX_ONLY.sub("", block_title.lower()):
        texts.append(sheet_title)  # `Both sexes` under `Table 6. Refugees ...`
    for text in texts:
        lowered = text.lower()
        for words, series, unit in MEASURES:
            if all(w in lowered for w in words):
                if unit == "PS" and _RATE_WORDS.search(lowered):
                    return None  # `Growth rate of the refugee stock`: not the stock
                mult = 3 if "thousand" in f"{block_title} {sheet_title}".lower() else 0
                return series, unit, mult, _sex_of(block_title, series)
    return None


def _sex_of(block_title: str, series: str) -> str:
    text = block_title.lower()
    if series == "IMS_FEMALE_PCT" or "both sexes" in text:
        return "_T"  # Table 4 is by definition the female share of the total stock
    if re.search(r"\bfemales?\b", text):
        return "F"
    if re.search(r"\bmales?\b", text):
        return "M"
    return "_T"


def edition_of(texts: list[str], periods: list[str]) -> str | None:
    """The edition named in the workbook's titles (`International Migrant Stock 2020`,
    `POP/DB/MIG/Stock/Rev.2019`), else the last year of its data."""
    for pattern in _EDITION:
        for text in texts:
            found = pattern.search(text)
            if found:
                return found.group(1)
    years = [int(p[-4:]) for p in periods if _PERIOD.match(p)]
    return str(max(years)) if years else None


def recognise(peek: Peek) -> list[dict] | None:
    """A UN DESA migrant-stock workbook: `Table N` sheets whose header has a code column and an
    area column, under a title that speaks of migrants."""
    if peek.kind == "csv":
        return None
    tables = [s for s in peek.sheets if TABLE_SHEET.match(s)]
    if not tables:
        return None
    top = peek.top(tables[0])
    layout = find_layout(top)
    if layout is None:
        return None
    texts = [cell_text(c) for r in range(layout.header_row) for c in top.iloc[r] if cell_text(c)]
    words = " ".join([*texts, *layout.titles, layout.sheet_title]).lower()
    if "migrant" not in words:
        return None
    periods = [cell_text(top.iat[layout.period_row, c]) for c in layout.data_columns]
    edition = edition_of(texts, periods)
    symbol = next((m.group(0) for t in texts for m in [_SYMBOL.search(t)] if m), None)
    label = f"International Migrant Stock {edition or '(edition not stated)'}"
    return [
        {
            "key": {"by_origin": layout.origin_code is not None},
            "edition": edition or "unknown",
            "order": edition or "",
            "vintage": f"{label} ({symbol})" if symbol else label,
            "options": {},
        }
    ]


_SYMBOL = re.compile(r"POP/DB/MIG/Stock/Rev\.\s*\d{4}", re.I)


def read(path: Path) -> RawRead:
    """Read every table sheet into one long frame of cells, keeping the publisher's labels."""
    try:
        book = read_sheet(path, None, header=None)
    except FileLayoutError as err:
        raise err.at(path) from None
    result = RawRead(frame=pd.DataFrame())
    parts = []
    for sheet, table in book.items():
        if not TABLE_SHEET.match(str(sheet)):
            continue
        layout = find_layout(table)
        if layout is None:
            raise FileLayoutError(
                path,
                f"sheet {sheet!r}: no header row with a code column ('Code' or 'Location code') "
                f"and an area column in the first {HEADER_SEARCH_ROWS} rows",
            )
        parts.append(_read_table(path, str(sheet), table, layout, result))
    if not parts:
        raise FileLayoutError(path, "no 'Table N' sheet with a header row was found")
    result.frame = pd.concat(parts, ignore_index=True)
    return result


def _read_table(
    path: Path, sheet: str, table: pd.DataFrame, layout: SheetLayout, result: RawRead
) -> pd.DataFrame:
    columns = []
    for col, title in zip(layout.data_columns, layout.titles, strict=True):
        measure = measure_of(title, layout.sheet_title)
        if measure is None:
            result.notes.append(
                f"sheet {sheet!r} column {column_letter(col)}: the measure "
                f"{(title or layout.sheet_title)!r} is not one EMP reads; skipped"
            )
            continue
        columns.append((col, measure, title or layout.sheet_title))
    body = table.iloc[layout.period_row + 1 :]
    body = body[body.iloc[:, layout.area].notna() | body.iloc[:, layout.code].notna()]
    records = []
    for index, row in zip(body.index, body.itertuples(index=False), strict=True):
        source_row = int(index) + 1
        m49, m49_problem = parse_number(row[layout.code])
        origin, origin_problem = (
            parse_number(row[layout.origin_code])
            if layout.origin_code is not None
            else (None, None)
        )
        if m49 is None and not m49_problem:
            continue  # a heading row (`UN development groups`) without a code
        ids = {
            "sheet": sheet,
            "sort_order": _integer(row[layout.sort_order])
            if layout.sort_order is not None
            else None,
            "area_label": _area(row[layout.area]),
            "notes": None if layout.notes is None else _optional(row[layout.notes]),
            "m49": None if m49 is None else int(m49),
            "origin_label": None if layout.origin_area is None else _area(row[layout.origin_area]),
            "origin_m49": None if origin is None else int(origin),
            "type_of_data": None
            if layout.type_of_data is None
            else _normalise_type(row[layout.type_of_data]),
        }
        for col, (series, unit, mult, sex), measure in columns:
            value, problem = parse_number(row[col])
            problem = (
                problem
                or (f"location code {row[layout.code]!r}: {m49_problem}" if m49_problem else None)
                or (f"origin code: {origin_problem}" if origin_problem else None)
            )
            period = cell_text(table.iat[layout.period_row, col])
            if problem:
                result.reject(
                    source_row,
                    {
                        "sheet": sheet,
                        "area": ids["area_label"],
                        "column": period,
                        "value": str(row[col]),
                        "code": str(row[layout.code]),
                    },
                    [f"sheet {sheet!r} column {column_letter(col)}: {problem}"],
                )
                continue
            records.append(
                {
                    "source_row": source_row,
                    **ids,
                    "measure": measure,
                    "series": series,
                    "unit_measure": unit,
                    "unit_mult": mult,
                    "sex": sex,
                    "period": period,
                    "value_raw": None if pd.isna(row[col]) else str(row[col]),
                    "value": value,
                }
            )
    marked: dict[str, int] = {}
    for record in records:
        raw = (record["value_raw"] or "").strip()
        if record["value"] is None and raw in MISSING_MARKERS and raw:
            marked[raw] = marked.get(raw, 0) + 1
    for marker, count in sorted(marked.items()):
        result.notes.append(
            f"sheet {sheet!r}: {count:,} cell(s) marked {marker!r} read as missing (the "
            "publisher's mark for a value not available, negligible or not applicable)"
        )
    frame = pd.DataFrame.from_records(records, columns=_RAW_COLUMNS)
    for name in ("m49", "origin_m49", "sort_order"):
        frame[name] = frame[name].astype("Int64")
    return frame


_RAW_COLUMNS = [
    "source_row",
    "sheet",
    "sort_order",
    "area_label",
    "notes",
    "m49",
    "origin_label",
    "origin_m49",
    "type_of_data",
    "measure",
    "series",
    "unit_measure",
    "unit_mult",
    "sex",
    "period",
    "value_raw",
    "value",
]


def _area(cell: object) -> str:
    """`   Republic of Moldova*` -> `Republic of Moldova`."""
    return _FOOTNOTE.sub("", cell_text(cell)).strip()


def _optional(cell: object) -> str | None:
    return cell_text(cell) or None


def _integer(cell: object) -> int | None:
    value, problem = parse_number(cell)
    return None if value is None or problem else int(value)


def _normalise_type(cell: object) -> str | None:
    """`C R`, `CR`, `C B R` -> letters separated by one space; blank -> None."""
    if cell is None or pd.isna(cell):
        return None
    letters = [ch for ch in str(cell).upper() if ch.isalpha()]
    return " ".join(letters) or None


def basis_of(type_of_data: str | None) -> str | None:
    """UN DESA type-of-data code -> basis of the stock estimate."""
    if not isinstance(type_of_data, str) or not type_of_data:
        return None
    letters = type_of_data.split()
    named = [BASIS[letter] for letter in ("B", "C") if letter in letters]
    if named:
        return "+".join(named)
    return "imputed" if "I" in letters else None


def _area_code(m49: int) -> str:
    return code_from_m49(int(m49)) or f"M49_{int(m49)}"


def harmonise(raw: pd.DataFrame) -> pd.DataFrame:
    """Cells -> observations. Countries get ISO3 codes from M49; aggregates get `M49_<code>`;
    the origin, where the table gives one, is the counterpart area."""
    frame = raw[raw["m49"].notna() & raw["value"].notna()].copy()
    frame["time_period"] = frame["period"].map(
        lambda p: re.sub(r"^(\d{4})\s*[-–]\s*(\d{4})$", r"\1/\2", str(p))
    )
    frame["ref_area"] = frame["m49"].map(_area_code)
    if "origin_m49" in frame and frame["origin_m49"].notna().any():
        frame["counterpart_area"] = [
            "_T" if pd.isna(m) or int(m) == 900 else _area_code(m) for m in frame["origin_m49"]
        ]
    frame["basis"] = frame["type_of_data"].map(basis_of)
    frame["obs_status"] = [
        "E" if isinstance(t, str) and "I" in t.split() else "A" for t in frame["type_of_data"]
    ]
    frame["obs_value"] = frame["value"]
    key = ["series", "ref_area", "time_period", "sex"]
    if "counterpart_area" in frame:
        key.append("counterpart_area")
    # The publisher lists Oceania (M49 909) twice, as a region and as an SDG region.
    frame = frame.drop_duplicates(key, keep="first")
    columns = [
        "series",
        "ref_area",
        "time_period",
        "sex",
        "obs_value",
        "unit_measure",
        "unit_mult",
        "obs_status",
        "basis",
        "type_of_data",
        "source_row",
    ]
    if "counterpart_area" in frame:
        columns.append("counterpart_area")
    return observations(frame[columns])
