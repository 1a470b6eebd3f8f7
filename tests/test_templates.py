"""Data-collection templates: for every bundled spec, the workbook `emp template` writes, filled
in with values and sent back as it is, passes `emp check` and loads as one batch."""

from __future__ import annotations

import duckdb
import openpyxl
import pytest

from pipelines.cli import main
from sources.check import check_file
from sources.samples import NATIONAL_DATA_DIR as SAMPLE_DIR
from sources.specs import spec_set
from sources.submissions import read_submission, read_table
from sources.templates import build_template, template_name, write_template
from warehouse.batches import load_batch
from warehouse.db import connect
from warehouse.settings import national_statistics_dir

SPECS = spec_set(None).specs
PERIOD = {"year": "2021", "quarter": "2021", "month": "2021-03"}


def sample_file(spec):
    """The file the project ships (or the statistics office publishes) for the spec."""
    for folder in (SAMPLE_DIR, national_statistics_dir()):
        if folder is None or not (folder / spec.ministry).is_dir():
            continue
        found = sorted(p for p in (folder / spec.ministry).iterdir() if spec.matches(p.name))
        if found:
            return found[-1]
    pytest.skip(f"no sample file for {spec.id}")


def fill_in(path, template):
    """What a focal point does: type a value in every value cell of the pre-filled rows (the
    previous edition's, so the totals still add up)."""
    book = openpyxl.load_workbook(path)
    sheet = book.worksheets[0]
    header_row = template.spec.skip_rows + template.spec.header_rows
    header = [c.value for c in sheet[header_row]]
    for offset, previous in enumerate(template.previous, start=1):
        for column, value in previous.items():
            if value not in (None, ""):
                sheet.cell(row=header_row + offset, column=header.index(column) + 1, value=value)
    book.save(path)


@pytest.mark.parametrize("spec_id", sorted(SPECS))
def test_a_filled_in_template_checks_clean_and_loads(spec_id, tmp_path):
    spec = SPECS[spec_id]
    sample = sample_file(spec)
    records = read_table(spec, sample).frame.to_dict(orient="records")
    period = PERIOD[spec.period.frequency]
    template = build_template(spec, period, records)
    assert template.rows, "the rows come filled in with the previous edition's labels"
    path = write_template(template, tmp_path / template_name(spec, period), "fr", "2022-03-31")
    assert spec.matches(path.name)

    book = openpyxl.load_workbook(path)
    data = book.worksheets[0]
    header_row = spec.skip_rows + spec.header_rows
    assert [c.value for c in data[header_row]] == template.header
    assert data.protection.sheet and data.cell(header_row, 1).protection.locked
    assert not data.cell(header_row + 1, 1).protection.locked
    lists = [v for v in data.data_validations.dataValidation if v.type == "list"]
    coded = [n for n, c in spec.columns.items() if c.codes or c.country_names]
    assert len(lists) == len(coded)
    assert "Instructions" in book.sheetnames and "Édition précédente" in book.sheetnames
    assert "Transmettre avant le : 2022-03-31" in [
        c.value for c in book["Instructions"]["A"] if c.value
    ]

    fill_in(path, template)
    report = check_file(path, SPECS)
    assert report.source == spec.id
    assert report.problems == [], [p.message for p in report.problems]
    assert report.would_load and report.rows_read > 0

    read = read_submission(spec, path)
    periods = set(read.frame["time_period"]) if len(read.frame) else set()
    wanted = {period} if spec.period.frequency != "quarter" else {f"2021-Q{q}" for q in range(1, 5)}
    assert periods and periods <= wanted

    database = tmp_path / "w.duckdb"
    with connect(database) as con:
        batch = load_batch(con, spec.id, path, lambda p: read_submission(spec, p))
        assert batch.rows_quarantined == 0 and batch.rows_loaded == report.rows_read
    con = duckdb.connect(str(database), read_only=True)
    loaded = con.execute(f'SELECT count(*) FROM raw."{spec.id}"').fetchone()[0]
    con.close()
    assert loaded == len(read.frame) > 0


def test_emp_template_writes_the_workbook_named_as_the_spec_reads_it(tmp_path, monkeypatch):
    monkeypatch.setenv("EMP_HOME", str(tmp_path / "home"))
    monkeypatch.chdir(tmp_path)
    assert (
        main(
            ["template", "--spec", "mar_consular_registrations", "--period", "2024", "--lang", "ar"]
        )
        == 0
    )
    book = openpyxl.load_workbook(tmp_path / "immatriculations_consulaires_2024.xlsx")
    assert book.sheetnames[:2] == ["Data", "التعليمات"]
    assert book["التعليمات"].sheet_view.rightToLeft
    assert (
        main(
            [
                "template",
                "--spec",
                "project_reports",
                "--project",
                "Morocco-32",
                "--period",
                "2013-S1",
            ]
        )
        == 0
    )
    assert (tmp_path / "logframe_Morocco-32_2013-S1.xlsx").exists()
    assert main(["template", "--spec", "no_such_spec"]) == 2
