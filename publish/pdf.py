"""The profile's print edition: one A4 PDF per language, printed by WeasyPrint from the same
page as the HTML profile (page numbers, a table of contents with page numbers, a running header
with the country, the edition and its status, vector charts, right-to-left pages in Arabic),
with the tables by region and province left to an annex published beside it (CSV and XLSX)."""

from __future__ import annotations

import base64
import csv
import html as html_text
import io
import re
from pathlib import Path

import arabic_reshaper
import weasyprint
from bidi import get_display
from openpyxl import Workbook
from openpyxl.utils import get_column_letter

from publish.report import ProfileBuilder, render_builder
from sources.atomic import write_atomically

#: the print edition beside `<version>.<lang>.html`
PRINT_EDITION = "{version}.{lang}.pdf"
#: beside `<version>.<lang>.pdf`
ANNEX_NAMES = {"csv": "{stem}.subnational.csv", "xlsx": "{stem}.subnational.xlsx"}


def annex_rows(builder: ProfileBuilder) -> tuple[list[str], list[list]]:
    """Every table by region and province as rows (table, area, level, part of, value as
    shown, value, unit, note), headed in the reader's language."""
    header = [
        builder.t("Table"),
        builder.t("Area"),
        builder.t("Level"),
        builder.t("Part of"),
        builder.t("Value"),
        builder.t("Unit"),
        builder.t("Note"),
    ]
    rows = []
    for table in builder.subnational(limit=None):
        for row in table["rows"]:
            value = float(row["sort"]) if row["sort"] else None
            rows.append(
                [
                    table["title"],
                    row["area"],
                    row["level"],
                    row["parent"],
                    value,
                    table["unit"],
                    row["note"] or (row["value"] if value is None else ""),
                ]
            )
    return header, rows


def _xlsx(header: list[str], rows: list[list], title: str, rtl: bool) -> bytes:
    book = Workbook()
    sheet = book.active
    sheet.title = title[:31]
    sheet.sheet_view.rightToLeft = rtl
    sheet.append(header)
    for row in rows:
        sheet.append(row)
    for index, name in enumerate(header, start=1):
        longest = max([len(str(name))] + [len(str(r[index - 1] or "")) for r in rows[:500]])
        sheet.column_dimensions[get_column_letter(index)].width = min(60, longest + 2)
    sheet.freeze_panes = "A2"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


def _csv(header: list[str], rows: list[list]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return "\ufeff" + buffer.getvalue()


_SVG = re.compile(r"<svg\b.*?</svg>", re.S)
_TEXT = re.compile(r"(<text\b[^>]*>)([^<]*)(</text>)")
_ARABIC = re.compile(r"[\u0600-\u06ff\u0750-\u077f]")


def _visual(match: re.Match) -> str:
    words = html_text.unescape(match.group(2))
    if not _ARABIC.search(words):
        return match.group(0)
    shaped = get_display(arabic_reshaper.reshape(words))
    return match.group(1) + html_text.escape(shaped, quote=False) + match.group(3)


def _drawing(svg: re.Match) -> str:
    shaped = _TEXT.sub(_visual, svg.group(0))
    data = base64.b64encode(shaped.encode("utf-8")).decode("ascii")
    return f'<img class="chart-drawing" alt="" src="data:image/svg+xml;base64,{data}">'


def printable_charts(page: str) -> str:
    """Each chart as WeasyPrint prints it best: still a vector drawing, but an image of its own
    rather than inline markup, which the page's style sheet would otherwise match node by node
    (a third less time per PDF). Labels in Arabic script are given in visual order with their
    letters' joined forms: WeasyPrint's SVG renderer draws a text's characters one after
    another from the left, unjoined (the HTML page keeps the logical text)."""
    return _SVG.sub(_drawing, page)


def write_print_edition(
    folder: Path,
    output: Path,
    language: str | None = None,
    previous: Path | None = None,
    chart_cache: Path | None = None,
) -> list[Path]:
    """Write the PDF at `output` and its sub-national annex beside it; returns the paths.
    Drawn charts are kept in `chart_cache`."""
    return print_builder(ProfileBuilder(folder, language, previous, chart_cache), output)


def print_builder(builder: ProfileBuilder, output: Path, context: dict | None = None) -> list[Path]:
    """The print edition of a profile already built (its `context`, when the HTML page was
    rendered from it, is reused): the PDF at `output`, the annex beside it."""
    output = Path(output)
    stem = output.name.removesuffix(".pdf")
    names = {kind: pattern.format(stem=stem) for kind, pattern in ANNEX_NAMES.items()}
    header, rows = annex_rows(builder)
    written = []
    if rows:
        title = builder.t("Figures by region and province")
        written.append(write_atomically(output.parent / names["csv"], _csv(header, rows)))
        data = _xlsx(header, rows, title, builder.numbers.rtl)
        written.append(write_atomically(output.parent / names["xlsx"], data))
    html = printable_charts(render_builder(builder, annex=names, context=context))
    pdf = weasyprint.HTML(string=html, base_url=str(output.parent)).write_pdf()
    written.insert(0, write_atomically(output, pdf))
    return written
