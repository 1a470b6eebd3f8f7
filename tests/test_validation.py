"""Reconciliation figures, the validation report, and `emp check`."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from indicators.reconciliation import (
    bilateral_remittances_vs_wdi,
    consular_vs_emigrant_stock,
    ministry_remittances_vs_wdi,
    population_territory,
    year_on_year_jumps,
)
from sources.samples import NATIONAL_DATA_DIR

PROFILE = ["GEO", "MAR", "MDA", "PHL"]
CONSULAR = NATIONAL_DATA_DIR / "MAR_MAE" / "immatriculations_consulaires_2019.csv"


@pytest.fixture(scope="module")
def con(built):
    with duckdb.connect(str(built.database), read_only=True) as connection:
        yield connection


def _by_area(outcome):
    return {f["where"]["ref_area"]: f for f in outcome.failures}


def test_bilateral_remittances_reconcile_for_moldova_not_for_morocco(con):
    outcome = bilateral_remittances_vs_wdi(con, PROFILE)
    failing = _by_area(outcome)
    assert set(failing) == {"MAR"}  # MDA, GEO, PHL agree within 2 %
    assert failing["MAR"]["value"] == "+9.4%"


def test_ministry_quarters_match_wdi(con):
    outcome = ministry_remittances_vs_wdi(con)
    assert outcome.success
    [row] = [f["where"] for f in outcome.failures]  # the figures travel even when it passes
    assert (row["ref_area"], row["year"], row["quarters"]) == ("MAR", "2019", 4)


def test_consular_ratio_is_reported_not_failed(con):
    outcome = consular_vs_emigrant_stock(con)
    assert outcome.success
    ratios = {f["where"]["counterpart_area"]: float(f["value"]) for f in outcome.failures}
    assert 0.5 <= ratios["FRA"] <= 0.9


def test_philippines_partial_2022_remittances_are_flagged(con):
    outcome = year_on_year_jumps(con, PROFILE)
    flagged = {
        (f["where"]["ref_area"], f["where"]["series"], f["where"]["time_period"]): f["value"]
        for f in outcome.failures
    }
    assert flagged[("PHL", "REM_IN_USD", "2022")] == "-75%"


def test_moldova_populations_cover_different_territories(con):
    outcome = population_territory(con, PROFILE)
    mda = [f for f in outcome.failures if f["where"]["ref_area"] == "MDA"]
    assert {f["where"]["time_period"] for f in mda} >= {"2015", "2019"}
    assert all(float(f["value"].rstrip("%")) < -25 for f in mda)  # WDI without Transnistria
    assert not any(f["where"]["ref_area"] == "MAR" for f in outcome.failures)


def test_validation_report_html_and_json(built):
    folder = built.database.parent / "reports" / "validation"
    data = json.loads((folder / "latest.json").read_text(encoding="utf-8"))
    sources = {b["source_id"] for b in data["batches"]}
    assert {"un_desa_ims", "mar_consular_registrations", "project_reports"} <= sources
    assert data["counts"]["failed"] == 0 and data["counts"]["warned"] >= 4
    gdp = next(b for b in data["batches"] if b["source_id"] == "wdi_remittances_gdp")
    warned = next(c for c in gdp["checks"] if c["status"] == "warned")
    assert warned["failures"][0]["where"]["ref_area"] == "LSO"
    html = (folder / "latest.html").read_text(encoding="utf-8")
    assert (
        "Reconciliation between sources" in html and "remittances-received-percent-gdp.xls" in html
    )
    with duckdb.connect(str(built.database), read_only=True) as connection:
        stored = connection.execute(
            "SELECT DISTINCT scope FROM meta.validation_results ORDER BY 1"
        ).fetchall()
    assert stored == [("batch",), ("census",), ("core",), ("indicators",), ("reconciliation",)]


def emp_check(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "check", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_emp_check_a_good_file():
    done = emp_check(str(CONSULAR))
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 problem(s); the file would load." in done.stdout


@pytest.mark.slow
def test_emp_check_explains_each_problem(tmp_path: Path):
    lines = CONSULAR.read_text(encoding="latin-1").splitlines()
    lines[1] = lines[1].replace(";H;", ";Homme;")
    lines[2] = lines[2].replace("France", "Frankreich")
    path = tmp_path / "immatriculations_consulaires_2020.csv"
    path.write_text("\n".join(lines) + "\n", encoding="latin-1")
    done = emp_check(str(path))
    assert done.returncode == 1
    assert (
        "ERROR: row 2, column 'Sexe': 'Homme' is not one of this column's labels "
        "(H, F, Ensemble) (value: Homme)" in (done.stdout)
    )
    assert (
        "ERROR: row 3, column 'Pays de résidence': 'Frankreich' is not a country this column knows"
    ) in done.stdout
    assert "the file would NOT load" in done.stdout
    data = json.loads(emp_check(str(path), "--json").stdout)
    assert data["would_load"] is False and data["source"] == "mar_consular_registrations"
    first = data["problems"][0]
    assert (first["row"], first["column"], first["value"]) == (2, "Sexe", "Homme")


def test_emp_check_without_a_matching_spec(tmp_path: Path):
    path = tmp_path / "export.csv"
    path.write_text("a;b\n1;2\n", encoding="utf-8")
    done = emp_check(str(path))
    assert done.returncode == 1 and "no source spec matches" in done.stdout
    assert emp_check(str(path), "--source", "mar_consular_registrations").returncode == 1
    assert emp_check(str(path), "--source", "nope").returncode == 2


def _files_to_check(tmp_path: Path) -> list[Path]:
    """The bundled ministry files and project reports, the statistics office's real files, and
    a consular file with a negative count, an unknown country and a repeated row."""
    from sources.data_home import national_statistics_dir

    files = sorted(p for p in NATIONAL_DATA_DIR.rglob("*") if p.is_file())
    files += sorted(p for p in national_statistics_dir().rglob("*.csv"))
    broken = tmp_path / "MAR_MAE" / CONSULAR.name
    broken.parent.mkdir()
    lines = CONSULAR.read_bytes().decode("latin-1").splitlines()
    lines[3] = lines[3].replace(";", ";-", 1) if ";" in lines[3] else lines[3]
    lines += [lines[4], lines[5].replace("France", "Atlantide")]
    broken.write_bytes("\n".join(lines).encode("latin-1"))
    return [*files, broken]


def test_emp_check_rules_give_what_great_expectations_gives(tmp_path):
    """`emp check` runs the rules with pandas, loading runs them with Great Expectations: on every
    rule kind, passing and failing, both give the same outcomes row for row."""
    import pandas as pd

    from sources.check import check_file
    from sources.expectations import evaluate_frame, parse_rules, validate_frame
    from sources.specs import spec_set

    frame = pd.DataFrame(
        {
            "source_row": [2, 3, 4, 5, 6],
            "series": ["A", "A", "A", "B", "B"],
            "ref_area": pd.Series(["MAR", "MAR", "XXX", 5, None], dtype=object),
            "counterpart_area": ["_T", "FRA", "ESP", "_T", "FRA"],
            "time_period": [2019, 2019, 2019, 2019, 2020],
            "sex": ["_T", "_T", "Q", "_T", "_T"],
            "obs_value": [10.0, 4.0, 5.5, -1.0, float("nan")],
        }
    )
    rules = parse_rules(
        [
            {"rule": "columns", "columns": ["series", "ref_area", "absent"]},
            {"rule": "types", "types": {"obs_value": "float64", "ref_area": "str", "x": "str"}},
            {"rule": "types", "types": {"time_period": "str", "counterpart_area": "str"}},
            {"rule": "not_null", "columns": ["ref_area", "obs_value"]},
            {"rule": "in_set", "column": "sex", "values": ["M", "F", "_T"]},
            {"rule": "area_codes", "column": "counterpart_area", "extra_codes": ["_T"]},
            {"rule": "between", "min": 0, "max": 8, "series": ["A"]},
            {"rule": "whole_numbers"},
            {"rule": "unique", "columns": ["series", "time_period"]},
            {"rule": "unique", "columns": ["counterpart_area"]},
            {"rule": "sums_to_total", "dimensions": ["counterpart_area"], "tolerance": 0.01},
        ],
        "test",
    )
    by_pandas = [o.as_dict() for o in evaluate_frame(frame, rules)]
    assert by_pandas == [o.as_dict() for o in validate_frame(frame, rules)]
    assert sum(not o["success"] for o in by_pandas) == 10  # every kind failed, as built

    specs = spec_set(None).specs
    failing = 0
    for path in _files_to_check(tmp_path):
        quick = check_file(path, specs).as_dict()
        assert quick == check_file(path, specs, engine=validate_frame).as_dict(), path
        failing += not quick["would_load"]
    assert failing >= 1  # the broken consular file
