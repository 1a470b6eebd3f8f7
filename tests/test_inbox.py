"""The inbox: a dropped file is matched to its spec, loaded whole or not at all, archived with its
batch report; anything else is moved aside with the reason, never deleted."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import dagster as dg
import duckdb
import pytest

from pipelines.definitions import build_definitions
from pipelines.sensors import inbox_sensor
from sources.samples import NATIONAL_DATA_DIR
from sources.specs import bundled_specs
from tests.conftest import warehouse_resource
from warehouse.core import rebuild_core
from warehouse.db import connect
from warehouse.ingest import ingest_folder

CONSULAR = NATIONAL_DATA_DIR / "MAR_MAE" / "immatriculations_consulaires_2019.csv"


@pytest.fixture()
def home(built, tmp_path) -> Path:
    """A copy of the session's warehouse, with an empty inbox beside it."""
    shutil.copy(built.database, tmp_path / "emp.duckdb")
    (tmp_path / "inbox").mkdir()
    return tmp_path


def drop(home: Path, ministry: str, source: Path | str, name: str | None = None) -> Path:
    folder = home / "inbox" / ministry
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / (name or Path(source).name)
    if isinstance(source, Path):
        shutil.copy(source, target)
    else:
        target.write_text(source, encoding="latin-1")
    return target


def ingest(home: Path):
    with connect(home / "emp.duckdb") as con:
        return ingest_folder(
            con, home / "inbox", bundled_specs(), home / "archive", home / "rejected"
        )


def counts(home: Path) -> tuple[int, int, int]:
    with duckdb.connect(str(home / "emp.duckdb"), read_only=True) as con:
        return tuple(
            con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
            for t in ("meta.batches", "meta.quarantine", "raw.mar_consular_registrations")
        )


def test_loaded_file_is_archived_with_its_batch_report(home):
    before = counts(home)
    drop(home, "MAR_MAE", CONSULAR, "immatriculations_consulaires_2018.csv")
    [outcome] = ingest(home)
    assert (outcome.status, outcome.spec_id) == ("loaded", "mar_consular_registrations")
    assert not any((home / "inbox" / "MAR_MAE").iterdir())
    archived = Path(outcome.moved_to)
    assert archived.read_bytes() == CONSULAR.read_bytes()
    report = json.loads(Path(f"{archived}.report.json").read_text(encoding="utf-8"))
    assert report["batch"]["rows_read"] == 45 and report["batch"]["rows_quarantined"] == 0
    assert counts(home)[0] == before[0] + 1


def test_the_same_file_again_changes_nothing(home):
    drop(home, "MAR_MAE", CONSULAR)  # the bundled sample is already loaded
    before = counts(home)
    [outcome] = ingest(home)
    assert outcome.status == "unchanged"
    assert counts(home) == before
    assert Path(outcome.moved_to).exists()


def test_unreadable_rows_go_to_quarantine(home):
    text = CONSULAR.read_text(encoding="latin-1").splitlines()
    text[3] = text[3].replace(";H;", ";X;")  # an unknown sex code on file line 4
    text[5] = "Atlantide;F;1 200;0,10"  # a country that does not exist, line 6
    drop(home, "MAR_MAE", "\n".join(text) + "\n", "immatriculations_consulaires_2016.csv")
    [outcome] = ingest(home)
    # The two rows are in quarantine; without them the countries no longer add up to the
    # "Total général" row, so the suite holds the batch back and the file goes back to rejected/.
    assert outcome.status == "held back"
    assert Path(outcome.moved_to).parent == home / "rejected" / "MAR_MAE"
    failed = {o.name: o.severity for o in outcome.batch.outcomes if not o.success}
    assert failed == {"10_sums_to_total": "error", "11_sums_to_total": "warn"}
    assert (outcome.batch.rows_read, outcome.batch.rows_loaded) == (45, 43)
    assert outcome.batch.rows_quarantined == 2
    with duckdb.connect(str(home / "emp.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT source_row, raw_record, reasons FROM meta.quarantine WHERE batch_id = ? "
            "ORDER BY source_row",
            [outcome.batch.batch_id],
        ).fetchall()
    assert [r[0] for r in rows] == [4, 6]
    assert rows[0][2] == ["column 'Sexe': 'X' is not one of this column's labels (H, F, Ensemble)"]
    assert rows[1][2] == [
        "column 'Pays de résidence': 'Atlantide' is not a country this column knows"
    ]
    assert json.loads(rows[1][1])["Pays de résidence"] == "Atlantide"
    report = json.loads(Path(f"{outcome.moved_to}.report.json").read_text(encoding="utf-8"))
    assert [q["row"] for q in report["quarantined_rows"]] == [4, 6]


def test_a_file_with_a_missing_column_is_rejected_whole(home):
    before = counts(home)
    text = CONSULAR.read_text(encoding="latin-1").replace("Nombre d'immatriculés", "Effectif")
    drop(home, "MAR_MAE", text, "immatriculations_consulaires_2015.csv")
    [outcome] = ingest(home)
    assert outcome.status == "rejected"
    assert "immatriculations_consulaires_2015.csv: row 1: the columns" in outcome.message
    assert "'Nombre d'immatriculés' are missing" in outcome.message
    assert "Nombre d'immatriculés" in outcome.message
    assert counts(home) == before
    moved = Path(outcome.moved_to)
    assert moved.read_text(encoding="latin-1") == text
    assert "are missing" in Path(f"{moved}.reason.txt").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("ministry", "name", "reason"),
    [
        ("MAR_MAE", "notes_de_service.docx", "matches no spec of MAR_MAE"),
        ("MAR_FINANCES", "budget_2019.csv", "no spec is declared for the folder 'MAR_FINANCES'"),
        ("MAR_MAE", "transferts_mre_2019.xlsx", "named like a file of MAR_OC"),
        ("PROJECTS", "rapport_final.pdf", "is not a logframe report"),
    ],
)
def test_files_without_a_spec_are_moved_aside_not_deleted(home, ministry, name, reason):
    before = counts(home)
    drop(home, ministry, "contenu", name)
    [outcome] = ingest(home)
    assert outcome.status == "rejected" and reason in outcome.message
    moved = Path(outcome.moved_to)
    assert moved.parent == home / "rejected" / ministry
    assert moved.read_text(encoding="latin-1") == "contenu"
    assert reason in Path(f"{moved}.reason.txt").read_text(encoding="utf-8")
    assert counts(home) == before


def test_a_revised_file_replaces_the_old_values(home):
    text = CONSULAR.read_text(encoding="latin-1").splitlines()
    france_men = next(i for i, line in enumerate(text) if line.startswith("France;H;"))
    text[france_men] = "France;H;300 000;14,30"
    drop(home, "MAR_MAE", "\n".join(text) + "\n", CONSULAR.name)
    [outcome] = ingest(home)
    assert outcome.status == "loaded"
    with connect(home / "emp.duckdb") as con:
        rebuild_core(con, bundled_specs())
        values = con.execute(
            "SELECT obs_value, batch_id FROM core.observations WHERE series = "
            "'MAR_CONSULAR_REGISTERED' AND counterpart_area = 'FRA' AND sex = 'M'"
        ).fetchall()
    assert values == [(300_000.0, outcome.batch.batch_id)]


@pytest.mark.slow
def test_sensor_starts_ingestion_and_the_country_refresh(home):
    drop(home, "MAR_MAE", CONSULAR, "immatriculations_consulaires_2017.csv")
    drop(home, "MAR_MAE", "?", "lisez-moi.txt")
    resource = warehouse_resource(home)
    context = dg.build_sensor_context(resources={"warehouse": resource})
    requests = inbox_sensor(context)
    assert sorted(str(r.partition_key) for r in requests) == ["MAR", "None"]
    again = inbox_sensor(
        dg.build_sensor_context(cursor=context.cursor, resources={"warehouse": resource})
    )
    assert isinstance(again, dg.SkipReason)  # nothing new since the last look

    defs = build_definitions()
    job = dg.Definitions(
        assets=defs.assets,
        asset_checks=defs.asset_checks,
        jobs=defs.jobs,
        resources={"warehouse": resource},
    ).resolve_job_def("ingest_inbox")
    instance = dg.DagsterInstance.ephemeral()
    for request in requests:
        result = job.execute_in_process(
            partition_key=request.partition_key,
            asset_selection=request.asset_selection,
            instance=instance,
        )
        assert result.success
    assert not any((home / "inbox" / "MAR_MAE").iterdir())
    assert len(list((home / "rejected" / "MAR_MAE").glob("*__lisez-moi.txt"))) == 1
    assert len(list((home / "snapshots" / "MAR").iterdir())) == 1
    with duckdb.connect(str(home / "emp.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT series, preferred FROM marts.indicators WHERE indicator_id = 'EMI_STOCK' "
            "AND ref_area = 'MAR' AND counterpart_area = 'FRA' AND time_period = '2017' "
            "AND sex = '_T'"
        ).fetchall()
    # The World Bank estimate comes first in the catalogue's sources for EMI_STOCK; the
    # consular registrations for the same year stay visible as an alternative series.
    assert rows == [("EMI_STOCK", True)]
    with duckdb.connect(str(home / "emp.duckdb"), read_only=True) as con:
        alternative = con.execute(
            "SELECT sum(obs_value), bool_or(preferred) FROM marts.indicators "
            "WHERE series = 'MAR_CONSULAR_REGISTERED' AND ref_area = 'MAR' "
            "AND counterpart_area = 'FRA' AND time_period = '2017'"
        ).fetchone()
    assert alternative[0] > 0 and alternative[1] is True


def test_a_release_dropped_in_public_refreshes_every_country(home):
    from pipelines.definitions import releases_sensor

    drop(home, "PUBLIC", "Country Name,Country Code,Year,Value\n", "population.csv")
    resource = warehouse_resource(home)
    context = dg.build_sensor_context(resources={"warehouse": resource})
    request = releases_sensor(context)
    assert request.tags["dagster/asset_partition_range_start"] == "GEO"
    assert request.tags["dagster/asset_partition_range_end"] == "PHL"
    again = releases_sensor(
        dg.build_sensor_context(cursor=context.cursor, resources={"warehouse": resource})
    )
    assert isinstance(again, dg.SkipReason)
    ministries = inbox_sensor(dg.build_sensor_context(resources={"warehouse": resource}))
    assert isinstance(ministries, dg.SkipReason)  # not taken for a ministry's file
