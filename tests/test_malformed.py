"""A corpus of malformed ministry files, each with its expected outcome: a clear message naming
the file, the row and the column; no crash; the warehouse unchanged, or the rows in quarantine,
or the batch held back by its expectation suite."""

from __future__ import annotations

import io
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import openpyxl
import pytest

from sources.data_home import public_data_dir
from sources.samples import NATIONAL_DATA_DIR
from sources.specs import bundled_specs
from warehouse.db import connect
from warehouse.ingest import ingest_file

CONSULAR = NATIONAL_DATA_DIR / "MAR_MAE" / "immatriculations_consulaires_2019.csv"
BORDER = NATIONAL_DATA_DIR / "MDA_IGPF" / "emigrare_revenire_2019.csv"
REMITTANCES = NATIONAL_DATA_DIR / "MAR_OC" / "transferts_mre_2019.xlsx"
PERMITS = NATIONAL_DATA_DIR / "MAR_DGSN" / "titres_sejour_2019.xlsx"
LFS = NATIONAL_DATA_DIR / "MDA_BNS" / "lucratori_strainatate_2019.xlsx"
LOGFRAME = NATIONAL_DATA_DIR / "PROJECTS" / "logframe_Morocco-33_2012-S1.xlsx"


def text(path: Path, encoding: str = "utf-8") -> str:
    return path.read_text(encoding=encoding)


def lines_of(path: Path, encoding: str = "utf-8") -> list[str]:
    return text(path, encoding).splitlines()


def csv_bytes(lines: list[str], encoding: str = "utf-8") -> bytes:
    return ("\n".join(lines) + "\n").encode(encoding)


def edit_line(path: Path, number: int, old: str, new: str, encoding="utf-8") -> bytes:
    lines = lines_of(path, encoding)
    assert old in lines[number - 1], (number, lines[number - 1])
    lines[number - 1] = lines[number - 1].replace(old, new, 1)
    return csv_bytes(lines, encoding)


def workbook(path: Path, change: Callable) -> bytes:
    book = openpyxl.load_workbook(path)
    change(book)
    out = io.BytesIO()
    book.save(out)
    return out.getvalue()


def merge_nationality(book) -> None:
    sheet = book.active
    sheet["A6"] = None  # France over rows 5-6, as a merged cell leaves it
    sheet.merge_cells("A5:A6")


@dataclass
class Case:
    ministry: str
    name: str
    content: Callable[[], bytes]
    status: str  # rejected, loaded, held back
    message: list[str] = field(default_factory=list)  # in the rejection message
    quarantined: dict[int, str] = field(default_factory=dict)  # row -> words of a reason
    failed_check: str | None = None


LATIN1 = "latin-1"
CASES = {
    "wrong encoding (UTF-16 for UTF-8)": Case(
        "MDA_IGPF",
        "emigrare_revenire_2019.csv",
        lambda: text(BORDER).encode("utf-16"),
        "rejected",
        ["emigrare_revenire_2019.csv: row 1", "is UTF-16 (little-endian) text, but the spec"],
    ),
    "wrong encoding (UTF-8 for Latin-1)": Case(
        "MAR_MAE",
        "immatriculations_consulaires_2019.csv",
        lambda: text(CONSULAR, LATIN1).encode("utf-8"),
        "rejected",
        ["the file is saved in the utf-8 encoding, but this dataset is read in latin-1"],
    ),
    "byte order mark": Case(
        "MDA_IGPF",
        "emigrare_revenire_2018.csv",
        lambda: b"\xef\xbb\xbf" + BORDER.read_bytes().replace(b"2019,", b"2018,"),
        "loaded",
    ),
    "truncated CSV": Case(
        "MDA_IGPF",
        "emigrare_revenire_2017.csv",
        lambda: BORDER.read_bytes().replace(b"2019,", b"2017,")[:-12],
        "loaded",
        quarantined={23: "the row has 3 fields, the header 5 (a truncated"},
    ),
    "truncated workbook": Case(
        "MAR_OC",
        "transferts_mre_2019.xlsx",
        lambda: REMITTANCES.read_bytes()[:3000],
        "rejected",
        ["transferts_mre_2019.xlsx", "not a readable XLSX workbook"],
    ),
    "wrong delimiter": Case(
        "MAR_MAE",
        "immatriculations_consulaires_2019.csv",
        lambda: text(CONSULAR, LATIN1).replace(";", ",").encode(LATIN1),
        "rejected",
        ["row 1", "seems separated by ','"],
    ),
    "renamed column": Case(
        "MAR_MAE",
        "immatriculations_consulaires_2019.csv",
        lambda: edit_line(CONSULAR, 1, "Sexe", "Genre", LATIN1),
        "rejected",
        ["row 1: the columns 'Sexe' are missing", "'Genre'"],
    ),
    "missing column": Case(
        "MDA_IGPF",
        "emigrare_revenire_2019.csv",
        lambda: csv_bytes([line.rsplit(",", 1)[0] for line in lines_of(BORDER)]),
        "rejected",
        ["the columns 'Reveniți' are missing"],
    ),
    "extra column": Case(
        "MDA_IGPF",
        "emigrare_revenire_2016.csv",
        lambda: csv_bytes(
            [
                line.replace("2019,", "2016,") + (",Observații" if i == 0 else ",")
                for i, line in enumerate(lines_of(BORDER))
            ]
        ),
        "loaded",
    ),
    "header drift between years": Case(
        "MDA_BNS",
        "lucratori_strainatate_2020.xlsx",
        lambda: workbook(LFS, lambda b: b["AFM"].__setitem__("A4", "Țara de destinație")),
        "rejected",
        ["lucratori_strainatate_2020.xlsx: row 4: the columns 'Țara' are missing"],
    ),
    "duplicate keys": Case(
        "MDA_IGPF",
        "emigrare_revenire_2015.csv",
        lambda: csv_bytes([*lines_of(BORDER), lines_of(BORDER)[1]]).replace(b"2019,", b"2015,"),
        "held back",
        failed_check="08_unique",
    ),
    "negative count": Case(
        "MDA_IGPF",
        "emigrare_revenire_2014.csv",
        lambda: edit_line(BORDER, 2, ",4297,", ",-4297,").replace(b"2019,", b"2014,"),
        "loaded",
        quarantined={2: "column 'Emigranți': '-4297' is negative"},
    ),
    "unknown country": Case(
        "MDA_IGPF",
        "emigrare_revenire_2013.csv",
        lambda: edit_line(BORDER, 3, "Rusia", "Transnistria").replace(b"2019,", b"2013,"),
        "loaded",
        quarantined={3: "'Transnistria' is not a country this column knows"},
    ),
    "unknown region code": Case(
        "PROJECTS",
        "logframe_Morocco-33_2012-S2.xlsx",
        lambda: workbook(
            LOGFRAME,
            lambda b: [
                b["Logframe"].__setitem__("B3", "2012-S2"),
                b["Logframe"].__setitem__(f"M{b['Logframe'].max_row}", "MA-99"),
            ],
        ),
        "loaded",
        quarantined={10: "'MA-99' was not an admin area on 2012-06-30"},
    ),
    "text in a numeric column": Case(
        "MDA_IGPF",
        "emigrare_revenire_2012.csv",
        lambda: edit_line(BORDER, 4, ",2988,", ",n/d,").replace(b"2019,", b"2012,"),
        "loaded",
        quarantined={4: "column 'Emigranți': 'n/d' is not a number"},
    ),
    "thousands separator in the wrong locale": Case(
        "MAR_MAE",
        "immatriculations_consulaires_2011.csv",
        lambda: edit_line(CONSULAR, 2, "294 326", "294,326", LATIN1),
        "held back",
        quarantined={2: "'294,326' is a count of persons with a fraction"},
        failed_check="10_sums_to_total",
    ),
    "decimal point in a comma-decimal file": Case(
        "MAR_MAE",
        "immatriculations_consulaires_2010.csv",
        lambda: edit_line(CONSULAR, 2, "294 326", "294.326", LATIN1),
        "held back",
        quarantined={2: "has '.', but this file's decimal mark is ','"},
        failed_check="10_sums_to_total",
    ),
    "formula in a workbook": Case(
        "MAR_DGSN",
        "titres_sejour_2018.xlsx",
        lambda: workbook(PERMITS, lambda b: b.active.__setitem__("C5", "=D5+100")),
        "loaded",
        quarantined={5: "holds the formula '=D5+100'"},
    ),
    "merged cells in a workbook": Case(
        "MAR_DGSN",
        "titres_sejour_2017.xlsx",
        lambda: workbook(PERMITS, merge_nationality),
        "loaded",
        quarantined={6: "column 'Nationalité': is empty (a merged cell"},
    ),
    "empty file": Case(
        "MAR_MAE",
        "immatriculations_consulaires_2009.csv",
        lambda: b"",
        "rejected",
        ["immatriculations_consulaires_2009.csv: the file is empty"],
    ),
    "empty sheet": Case(
        "MAR_OC",
        "transferts_mre_2018.xlsx",
        lambda: workbook(REMITTANCES, lambda b: b["Transferts"].delete_rows(1, 100)),
        "rejected",
        ["transferts_mre_2018.xlsx: row 5: sheet 'Transferts' has no header"],
    ),
    "very long line": Case(
        "MDA_IGPF",
        "emigrare_revenire_2011.csv",
        lambda: edit_line(BORDER, 5, "Italia", "X" * 200_000).replace(b"2019,", b"2011,"),
        "loaded",
        quarantined={5: "(200,000 characters)"},
    ),
    "file named like another ministry's": Case(
        "MAR_MAE",
        "transferts_mre_2019.xlsx",
        REMITTANCES.read_bytes,
        "rejected",
        ["named like a file of MAR_OC", "folder of MAR_MAE"],
    ),
    "spreadsheet formula injection in a label": Case(
        "MDA_IGPF",
        "emigrare_revenire_2010.csv",
        lambda: edit_line(BORDER, 6, "Ucraina", '"=HYPERLINK(""http://x"",""Ucraina"")"').replace(
            b"2019,", b"2010,"
        ),
        "loaded",
        quarantined={6: "looks like a spreadsheet formula; refused"},
    ),
    "period missing from the file name": Case(
        "MAR_MAE",
        "immatriculations_consulaires_finale.csv",
        CONSULAR.read_bytes,
        "rejected",
        ["the file name does not give the period"],
    ),
    "year that is not a year": Case(
        "MAR_ANAPEC",
        "placements_international_2018.csv",
        lambda: (
            (NATIONAL_DATA_DIR / "MAR_ANAPEC" / "placements_international_2019.csv")
            .read_bytes()
            .replace(b"2019,Espagne", b"2O19,Espagne", 1)
        ),
        "loaded",
        quarantined={2: "column 'Année': '2O19' is not a year"},
    ),
    "unknown sex code": Case(
        "MDA_IGPF",
        "emigrare_revenire_2009.csv",
        lambda: edit_line(BORDER, 8, "Bărbați", "Barbati?").replace(b"2019,", b"2009,"),
        "loaded",
        quarantined={
            8: "column 'Sexul': 'Barbati?' is not one of this column's labels; "
            "did you mean Bărbați?"
        },
    ),
    "empty key cell": Case(
        "MDA_IGPF",
        "emigrare_revenire_2008.csv",
        lambda: edit_line(BORDER, 9, "România", "").replace(b"2019,", b"2008,"),
        "loaded",
        quarantined={9: "column 'Țara de destinație': is empty"},
    ),
    "wrong sheet name": Case(
        "MDA_BNS",
        "lucratori_strainatate_2018.xlsx",
        lambda: workbook(LFS, lambda b: setattr(b["AFM"], "title", "Sheet1")),
        "rejected",
        ["lucratori_strainatate_2018.xlsx: no sheet 'AFM'"],
    ),
    "total that does not add up": Case(
        "MDA_BNS",
        "lucratori_strainatate_2017.xlsx",
        lambda: workbook(LFS, lambda b: b["AFM"].__setitem__("B14", 999.9)),
        "held back",
        failed_check="08_sums_to_total",
    ),
    "project not in the registry": Case(
        "PROJECTS",
        "logframe_Atlantis-1_2012-S1.xlsx",
        lambda: workbook(LOGFRAME, lambda b: b["Logframe"].__setitem__("B2", "Atlantis-1")),
        "rejected",
        ["row 2, column 'B': project code 'Atlantis-1' is not in the JMDI registry"],
    ),
}


PLACEMENTS = NATIONAL_DATA_DIR / "MAR_ANAPEC" / "placements_international_2019.csv"
WDI_XLS = public_data_dir() / "wdi" / "personal-remittances-received.xls"


def placements(year: int, old: str, new: str) -> Callable[[], bytes]:
    """The ANAPEC sample, its year changed (a batch of its own), one cell of row 2 edited."""

    def make() -> bytes:
        data = edit_line(PLACEMENTS, 2, old, new).replace(b"2019,", f"{year},".encode())
        return data.replace(f"{year},Espagne,Hommes".encode(), b"2019,Espagne,Hommes", 0)

    return make


def mixed_line_endings() -> bytes:
    lines = lines_of(PLACEMENTS)
    endings = ["\r\n", "\n", "\r"]
    text = "".join(line + endings[i % 3] for i, line in enumerate(lines))
    return text.replace("2019,", "2009,").encode("utf-8")


def xlsx_bomb() -> bytes:
    """A small .xlsx whose sheet unpacks beyond EMP_MAX_UNPACKED_BYTES (256 MB by default)."""
    import zipfile

    out = io.BytesIO()
    row = b'<row><c t="inlineStr"><is><t>x</t></is></c></row>' * 20_000
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as book:
        book.writestr("[Content_Types].xml", "<Types/>")
        with book.open("xl/worksheets/sheet1.xml", "w") as sheet:
            sheet.write(b"<worksheet><sheetData>")
            for _ in range(300 * 1024**2 // len(row) + 1):
                sheet.write(row)
            sheet.write(b"</sheetData></worksheet>")
    return out.getvalue()


def declared_rows(rows: int) -> Callable[[], bytes]:
    """The LFS workbook with its sheet declaring `rows` rows (as a sheet filled to Excel's last
    row does)."""

    def make() -> bytes:
        import re
        import zipfile

        source, out = zipfile.ZipFile(LFS), io.BytesIO()
        with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as book:
            for entry in source.infolist():
                data = source.read(entry)
                if entry.filename.startswith("xl/worksheets/"):
                    data = re.sub(
                        rb'<dimension ref="[^"]*"', f'<dimension ref="A1:E{rows}"'.encode(), data
                    )
                book.writestr(entry, data)
        return out.getvalue()

    return make


HOSTILE = {
    "a count of 1e308": Case(
        "MAR_ANAPEC",
        "placements_international_2008.csv",
        placements(2008, ",415", ",1e308"),
        "loaded",
        quarantined={2: "beyond the largest magnitude accepted"},
    ),
    "a count of 1e400 (overflows to infinity)": Case(
        "MAR_ANAPEC",
        "placements_international_2007.csv",
        placements(2007, ",415", ",1e400"),
        "loaded",
        quarantined={2: "infinite or too large"},
    ),
    "Infinity as a count": Case(
        "MAR_ANAPEC",
        "placements_international_2006.csv",
        placements(2006, ",415", ",Infinity"),
        "loaded",
        quarantined={2: "'Infinity' is infinite"},
    ),
    "the text nan as a count": Case(
        "MAR_ANAPEC",
        "placements_international_2005.csv",
        placements(2005, ",415", ",nan"),
        "loaded",
        quarantined={2: "'nan' is not a number (NaN)"},
    ),
    "negative zero": Case(
        "MAR_ANAPEC",
        "placements_international_2004.csv",
        placements(2004, ",415", ",-0"),
        "loaded",
        quarantined={2: "'-0' is a negative zero"},
    ),
    "a five-digit year": Case(
        "MAR_ANAPEC",
        "placements_international_2003.csv",
        placements(2003, "2019,Espagne,Hommes", "20199,Espagne,Hommes"),
        "loaded",
        quarantined={2: "column 'Année': '20199' is not a year"},
    ),
    "an Excel date serial number as the year": Case(
        "MAR_ANAPEC",
        "placements_international_2002.csv",
        placements(2002, "2019,Espagne,Hommes", "43466,Espagne,Hommes"),
        "loaded",
        quarantined={2: "looks like an Excel date serial number (2019-01-01)"},
    ),
    "two columns with the same header": Case(
        "MAR_ANAPEC",
        "placements_international_2001.csv",
        lambda: csv_bytes(
            [
                line + (",Sexe" if i == 0 else ",Femmes")
                for i, line in enumerate(lines_of(PLACEMENTS))
            ]
        ),
        "rejected",
        ["row 1, column 'Sexe': two columns have the same header (columns C and F)"],
    ),
    "header only": Case(
        "MAR_ANAPEC",
        "placements_international_2000.csv",
        lambda: csv_bytes(lines_of(PLACEMENTS)[:1]),
        "rejected",
        ["row 1: the file has a header but no data rows"],
    ),
    "mixed line endings (CRLF, LF, lone CR)": Case(
        "MAR_ANAPEC",
        "placements_international_2009.csv",
        mixed_line_endings,
        "loaded",
    ),
    "UTF-16 sent to a Latin-1 spec": Case(
        "MAR_MAE",
        "immatriculations_consulaires_2008.csv",
        lambda: text(CONSULAR, LATIN1).encode("utf-16"),
        "rejected",
        ["row 1: the file is UTF-16 (little-endian) text, but the spec says latin-1"],
    ),
    "an .xls renamed .xlsx": Case(
        "MDA_BNS",
        "lucratori_strainatate_2016.xlsx",
        WDI_XLS.read_bytes,
        "rejected",
        ["is an Excel 97-2003 .xls workbook but is named or declared as .xlsx"],
    ),
    "an .xlsx that unpacks to 300 MB": Case(
        "MDA_BNS",
        "lucratori_strainatate_2015.xlsx",
        xlsx_bomb,
        "rejected",
        ["unpacks to", "beyond the limit of 268,435,456 (EMP_MAX_UNPACKED_BYTES)"],
    ),
    "a sheet declaring Excel's 1,048,576 rows": Case(
        "MDA_BNS",
        "lucratori_strainatate_2014.xlsx",
        declared_rows(1_048_576),
        "rejected",
        ["declares 1,048,576 rows, beyond the limit of 500,000 (EMP_MAX_ROWS)"],
    ),
    "a spreadsheet error cell (#DIV/0!) as a value": Case(
        "MAR_DGSN",
        "titres_sejour_2016.xlsx",
        lambda: workbook(PERMITS, lambda b: b.active.__setitem__("C5", "#DIV/0!")),
        "loaded",
        quarantined={5: "holds the spreadsheet error '#DIV/0!'"},
    ),
    "a file name holding script": Case(
        "MAR_ANAPEC",
        "<script>alert(1)<\\script>.csv",
        PLACEMENTS.read_bytes,
        "rejected",
        ["<script>alert(1)", "matches no spec of MAR_ANAPEC"],
    ),
    "an unbalanced quote folding the rows after it": Case(
        "MDA_IGPF",
        "emigrare_revenire_2013.csv",
        lambda: edit_line(BORDER, 4, "2019,Italia", '2013,"Italia'),
        "rejected",
        ["row 4", "an unbalanced quote"],
    ),
    "a count written with an exponent": Case(
        "MDA_IGPF",
        "emigrare_revenire_2012.csv",
        lambda: edit_line(BORDER, 2, ",4297,", ",4.297e3,").replace(b"2019,", b"2012,"),
        "loaded",
        quarantined={2: "written with an exponent"},
    ),
    "a count with a fraction": Case(
        "MDA_IGPF",
        "emigrare_revenire_2011.csv",
        lambda: edit_line(BORDER, 3, ",3811,", ",3811.5,").replace(b"2019,", b"2011,"),
        "loaded",
        quarantined={3: "a count of persons with a fraction"},
    ),
}
CASES.update(HOSTILE)


@pytest.fixture(scope="module")
def database(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("corpus") / "emp.duckdb"
    with connect(path):
        pass
    return path


def _counts(database: Path) -> dict[str, int]:
    with duckdb.connect(str(database), read_only=True) as con:
        return {
            table: con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]
            for table in ("meta.batches", "meta.quarantine")
        }


def test_corpus_is_large_enough():
    assert len(CASES) >= 46


@pytest.mark.parametrize("label", list(CASES))
def test_malformed_file(label, database, tmp_path):
    case = CASES[label]
    folder = tmp_path / "inbox" / case.ministry
    folder.mkdir(parents=True)
    path = folder / case.name
    content = case.content()
    path.write_bytes(content)
    before = _counts(database)
    with connect(database) as con:
        outcome = ingest_file(
            con, case.ministry, path, bundled_specs(), tmp_path / "archive", tmp_path / "rejected"
        )
        quarantined = (
            dict(
                con.execute(
                    "SELECT source_row, array_to_string(reasons, ' | ') FROM meta.quarantine "
                    "WHERE batch_id = ?",
                    [outcome.batch.batch_id],
                ).fetchall()
            )
            if outcome.batch
            else {}
        )
    after = _counts(database)
    assert outcome.status == case.status, (label, outcome.message, quarantined)
    moved = Path(outcome.moved_to)
    assert moved.exists() and moved.read_bytes() == content  # never deleted
    for words in case.message:
        assert words in outcome.message, (label, outcome.message)
    if case.status == "rejected":
        assert after == before  # nothing written
        assert moved.parent == tmp_path / "rejected" / case.ministry
        return
    assert after["meta.batches"] == before["meta.batches"] + 1
    assert set(quarantined) == set(case.quarantined), (label, quarantined)
    for row, words in case.quarantined.items():
        assert words in quarantined[row], (label, quarantined[row])
    failed = [o.name for o in outcome.batch.outcomes if not o.success and o.severity == "error"]
    if case.failed_check:
        assert case.failed_check in failed, (label, failed)
        assert outcome.batch.validation == "failed"
    else:
        assert failed == [], (label, failed)


def test_rows_with_no_value_and_library_warnings_are_noted(database, tmp_path):
    """Rows whose every value is blank are counted in the batch notes, not dropped silently;
    what a library warns about while reading reaches the notes in EMP's words."""
    lines = lines_of(BORDER)
    lines[2] = lines[2].rsplit(",", 2)[0] + ",,"  # both values blank
    lines[3] = lines[3].rsplit(",", 2)[0] + ",..,"  # a missing-value mark and a blank
    folder = tmp_path / "inbox" / "MDA_IGPF"
    folder.mkdir(parents=True)
    path = folder / "emigrare_revenire_2010.csv"
    path.write_bytes(csv_bytes([line.replace("2019,", "2010,") for line in lines]))
    with connect(database) as con:
        outcome = ingest_file(con, "MDA_IGPF", path, bundled_specs())
    notes = " ".join(outcome.batch.notes)
    assert "2 row(s) with no value" in notes and "rows 3, 4" in notes, notes


def test_empty_trailing_headers_are_dropped_without_a_library_warning(database, tmp_path):
    """Two empty trailing headers (trailing delimiters, as some exports write them): the empty
    columns are dropped; pandas' warning about repeated column names never arises."""
    folder = tmp_path / "inbox" / "MDA_IGPF"
    folder.mkdir(parents=True)
    path = folder / "emigrare_revenire_2009.csv"
    lines = [line.replace("2019,", "2009,") + ",," for line in lines_of(BORDER)]
    path.write_bytes(csv_bytes(lines))
    with connect(database) as con:
        outcome = ingest_file(con, "MDA_IGPF", path, bundled_specs())
    assert outcome.status == "loaded" and outcome.batch.rows_quarantined == 0
    assert not any("while reading" in n for n in outcome.batch.notes), outcome.batch.notes
