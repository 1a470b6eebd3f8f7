"""One file, one batch: idempotent, all or nothing, bad rows in quarantine, clear layout errors."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest

from sources.observations import FileLayoutError
from sources.publishers.files import default_file
from sources.readers import unhcr, wdi
from warehouse.batches import current_batches, load_batch
from warehouse.db import connect

UNHCR = default_file("unhcr_population")


def _count(con, table: str) -> int:
    return con.execute(f"SELECT count(*) FROM {table}").fetchone()[0]


def _edit_lines(source: Path, target: Path, edits: dict[int, tuple[str, str]]) -> Path:
    """Copy a file, replacing text on given 1-based lines."""
    lines = source.read_text(encoding="utf-8").splitlines(keepends=True)
    for number, (old, new) in edits.items():
        assert old in lines[number - 1], (number, lines[number - 1])
        lines[number - 1] = lines[number - 1].replace(old, new, 1)
    target.write_text("".join(lines), encoding="utf-8")
    return target


def test_same_file_twice_changes_nothing(tmp_path):
    with connect(tmp_path / "w.duckdb") as con:
        first = load_batch(con, UNHCR.source_id, UNHCR.path(), UNHCR.reader)
        counts = [_count(con, t) for t in ("raw.unhcr_population", "meta.batches")]
        second = load_batch(con, UNHCR.source_id, UNHCR.path(), UNHCR.reader)
        assert (first.status, second.status) == ("loaded", "unchanged")
        assert second.batch_id == first.batch_id
        assert [_count(con, t) for t in ("raw.unhcr_population", "meta.batches")] == counts
        assert first.rows_read == first.rows_loaded == 48_731
        batch = con.execute("SELECT * FROM meta.batches").df().iloc[0]
        assert batch.size_bytes == UNHCR.path().stat().st_size
        assert len(batch.sha256) == 64


def test_unreadable_rows_go_to_quarantine(tmp_path):
    # Line 16 is the first data row (2015, AFG in AFG); line 17 is IRN in AFG.
    bad = _edit_lines(
        UNHCR.path(),
        tmp_path / "population.csv",
        {
            16: (",0,0,1174306,", ",0,lots,1174306,"),
            17: (",IRN,Afghanistan,AFG,", ",ZZZ,Afghanistan,AFG,"),
        },
    )
    with connect(tmp_path / "w.duckdb") as con:
        report = load_batch(con, UNHCR.source_id, bad, UNHCR.reader)
        assert (report.rows_read, report.rows_loaded, report.rows_quarantined) == (
            48_731,
            48_729,
            2,
        )
        quarantined = con.execute(
            "SELECT source_row, raw_record, reasons FROM meta.quarantine ORDER BY source_row"
        ).df()
        assert list(quarantined.source_row) == [16, 17]
        assert quarantined.reasons[0] == ["column 'Asylum-seekers': 'lots' is not a number"]
        assert quarantined.reasons[1] == [
            "column 'Country of origin (ISO)': unknown country code 'ZZZ'"
        ]
        assert json.loads(quarantined.raw_record[1])["origin_name"] == "Iran (Islamic Rep. of)"
        assert _count(con, "raw.unhcr_population") == 48_729


def test_a_failing_batch_leaves_nothing_behind(tmp_path):
    """A file whose rows cannot enter the raw table rolls back whole: no rows, no batch record."""
    with connect(tmp_path / "w.duckdb") as con:
        load_batch(con, UNHCR.source_id, UNHCR.path(), UNHCR.reader)
        before = [_count(con, t) for t in ("raw.unhcr_population", "meta.batches")]

        def drifting_reader(path: Path):
            read = unhcr.read_population(path)
            read.frame["year"] = read.frame["year"].astype(str) + " (provisional)"
            return read

        changed = shutil.copy(UNHCR.path(), tmp_path / "population-2.csv")
        with open(changed, "a", encoding="utf-8") as fh:
            fh.write('2023,Ukraine,UKR,"Rep. of Moldova",MDA,1,0,0,-,0,0,0\n')
        with pytest.raises(Exception, match="(?i)conver"):
            load_batch(con, UNHCR.source_id, Path(changed), drifting_reader)
        after = [_count(con, t) for t in ("raw.unhcr_population", "meta.batches")]
        assert after == before


def test_a_revised_file_becomes_the_current_batch(tmp_path):
    revised = shutil.copy(UNHCR.path(), tmp_path / "population.csv")
    with open(revised, "a", encoding="utf-8") as fh:
        fh.write('2023,Ukraine,UKR,"Rep. of Moldova",MDA,1,0,0,-,0,0,0\n')
    with connect(tmp_path / "w.duckdb") as con:
        old = load_batch(con, UNHCR.source_id, UNHCR.path(), UNHCR.reader)
        new = load_batch(con, UNHCR.source_id, Path(revised), UNHCR.reader)
        assert new.batch_id != old.batch_id and new.rows_loaded == old.rows_loaded + 1
        current = current_batches(con)
        assert list(current.batch_id) == [new.batch_id]


def test_layout_errors_name_file_and_row(tmp_path):
    api = default_file("wdi_remittances_paid")
    renamed = _edit_lines(api.path(), tmp_path / "api.csv", {5: ('"Country Code"', '"Code"')})
    with pytest.raises(
        FileLayoutError, match=r"api\.csv: row 5: missing columns \['Country Code'\]"
    ):
        wdi.read(renamed)

    no_header = tmp_path / "decisions.csv"
    no_header.write_text("Annee,Pays\n2020,MAR\n", encoding="utf-8")
    with pytest.raises(FileLayoutError, match=r"decisions\.csv: row 1, column 'Year'"):
        unhcr.read_decisions(no_header)

    sheetless = tmp_path / "ims.xlsx"
    pd.DataFrame({"a": [1]}).to_excel(sheetless, sheet_name="Table 1", index=False)
    with pytest.raises(FileLayoutError, match=r"ims\.xlsx: sheet 'Table 1': no header row"):
        default_file("un_desa_ims").reader(sheetless)
