"""How fast hostile workbooks are refused, against reading a real release once.

Builds, in a temporary folder: a 3 MB .xlsx whose sheet unpacks to about 1 GB (a zip bomb), and
a .xlsx sheet filled to Excel's last row (1,048,576 rows) with no dimension element, so the row
limit can only be found by reading. Times each refusal, and the baseline: reading UN DESA's
International Migrant Stock 2019 workbook (tables 1-6) with the same reader. Prints each figure
and the ratio to the baseline; the last line is one JSON object.

    .venv/bin/python benchmarks/hostile.py
"""

from __future__ import annotations

import json
import resource
import sys
import tempfile
import time
import zipfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sources.excel import read_sheet  # noqa: E402
from sources.observations import FileLayoutError  # noqa: E402
from sources.publishers.files import default_file  # noqa: E402

CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/'
    'package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.'
    'openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType='
    '"application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/'
    'worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.'
    'spreadsheetml.worksheet+xml"/></Types>'
)
RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.'
    'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats'
    '.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/>'
    "</Relationships>"
)
WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8"?><workbook xmlns="http://schemas.openxmlformats.org/'
    'spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships"><sheets><sheet name="Data" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8"?><Relationships xmlns="http://schemas.openxmlformats.'
    'org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats'
    '.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/>'
    "</Relationships>"
)


def workbook(path: Path, rows) -> Path:
    """A minimal .xlsx whose one sheet holds `rows` (an iterable of XML byte strings)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=6) as book:
        book.writestr("[Content_Types].xml", CONTENT_TYPES)
        book.writestr("_rels/.rels", RELS)
        book.writestr("xl/workbook.xml", WORKBOOK)
        book.writestr("xl/_rels/workbook.xml.rels", WORKBOOK_RELS)
        with book.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(
                b'<?xml version="1.0" encoding="UTF-8"?><worksheet xmlns="http://schemas.'
                b'openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
            )
            for chunk in rows:
                sheet.write(chunk)
            sheet.write(b"</sheetData></worksheet>")
    return path


def bomb_rows(target_bytes: int):
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>' * 10_000
    for _ in range(target_bytes // len(row) + 1):
        yield row


def full_sheet_rows(count: int = 1_048_576):
    for start in range(1, count + 1, 10_000):
        yield b"".join(
            f'<row r="{r}"><c r="A{r}"><v>{r}</v></c></row>'.encode()
            for r in range(start, min(start + 10_000, count + 1))
        )


def timed(action) -> tuple[float, str]:
    started = time.perf_counter()
    try:
        action()
        outcome = "read"
    except FileLayoutError as err:
        outcome = "refused: " + str(err).split(": ", 1)[-1][:120]
    return time.perf_counter() - started, outcome


def main() -> None:
    baseline_path = default_file("un_desa_ims").path()
    sheets = [f"Table {i}" for i in range(1, 7)]
    baseline, _ = timed(lambda: read_sheet(baseline_path, sheets, header=None))
    with tempfile.TemporaryDirectory() as folder:
        bomb = workbook(Path(folder) / "bomb.xlsx", bomb_rows(1024**3))
        full = workbook(Path(folder) / "full.xlsx", full_sheet_rows())
        bomb_s, bomb_outcome = timed(lambda: read_sheet(bomb, "Data", header=None))
        full_s, full_outcome = timed(lambda: read_sheet(full, "Data", header=None))
        sizes = {"bomb_mb": bomb.stat().st_size / 1e6, "full_sheet_mb": full.stat().st_size / 1e6}
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"baseline: UN DESA IMS 2019, tables 1-6, read in {baseline:.3f} s")
    print(f"zip bomb ({sizes['bomb_mb']:.1f} MB, ~1 GB unpacked): {bomb_s:.3f} s, {bomb_outcome}")
    print(f"1,048,576-row sheet ({sizes['full_sheet_mb']:.1f} MB): {full_s:.3f} s, {full_outcome}")
    print(f"peak memory {peak:.0f} MB")
    print(
        json.dumps(
            {
                "baseline_s": round(baseline, 4),
                "bomb_s": round(bomb_s, 4),
                "bomb_ratio": round(bomb_s / baseline, 2),
                "full_sheet_s": round(full_s, 4),
                "full_sheet_ratio": round(full_s / baseline, 2),
                "bomb_refused": bomb_outcome.startswith("refused"),
                "full_sheet_refused": full_outcome.startswith("refused"),
                "peak_rss_mb": round(peak),
                **{k: round(v, 1) for k, v in sizes.items()},
            }
        )
    )


if __name__ == "__main__":
    main()
