"""Project reports: the JMDI project registry and the logframe report template.

A logframe report is one XLSX per project and reporting period, in the template below: a header
block (project code, reporting period, report date, data status) and one row per indicator with
its unit, sex, baseline, target, the actual value of each reporting period, and the intervention
areas as admin codes (ISO 3166-2 or the statistics office's codes, valid at the report date).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from sources.data_home import registry_path
from sources.excel import read_sheet
from sources.geography import admin_area_on, country_names, normalise_label
from sources.limits import number_problem
from sources.observations import FileLayoutError, RawRead

PROJECTS_FOLDER = "PROJECTS"
REPORT_PATTERN = "logframe_*.xlsx"
SHEET = "Logframe"
HEADER_FIELDS = ("Project code", "Reporting period", "Report date", "Data status")
COLUMNS = (
    "Indicator code",
    "Indicator",
    "EMP indicator",
    "Unit",
    "Sex",
    "Baseline value",
    "Baseline date",
    "Target value",
    "Target date",
)
AREAS_COLUMN = "Intervention areas"
ACTUAL = re.compile(r"^Actual (?P<period>\d{4}(-(S[12]|Q[1-4]|\d{2}))?)$")
#: Registry spellings that are not ISO 3166 names.
REGISTRY_NAMES = {"cape verde": "CPV"}
SEX = {"total": "_T", "_t": "_T", "women": "F", "f": "F", "men": "M", "m": "M"}


def read_registry(path: Path | None = None) -> pd.DataFrame:
    """The 51 JMDI projects with ISO3 codes for the country and the countries involved."""
    path = path or registry_path()
    table = pd.read_csv(path, dtype=str, keep_default_na=False)
    names = country_names("en")

    def iso3(name: str) -> str:
        code = names.get(normalise_label(name)) or REGISTRY_NAMES.get(normalise_label(name))
        if code is None:
            raise FileLayoutError(
                path, f"country {name!r} is not an ISO 3166 name", None, "country"
            )
        return code

    return pd.DataFrame(
        {
            "project_code": table["project_code"],
            "country": table["country"].map(iso3),
            "number": table["number"].astype(int),
            "title": table["title"].str.replace(r"\s+", " ", regex=True).str.strip(),
            "partners": table["partners"],
            "countries_involved": table["countries_involved"].map(
                lambda text: [iso3(n.strip()) for n in text.split(";") if n.strip()]
            ),
            "theme_inferred": table["theme_inferred"],
        }
    )


@cache
def registry_codes() -> frozenset[str]:
    return frozenset(read_registry()["project_code"])


def _as_date(value: Any) -> date | None:
    if value is None or (isinstance(value, float) and pd.isna(value)) or value == "":
        return None
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value).strip()[:10])


def _number(value: Any) -> tuple[float | None, str | None]:
    if value is None or (isinstance(value, float) and pd.isna(value)) or str(value).strip() == "":
        return None, None
    try:
        number = float(str(value).replace(",", "").strip())
    except ValueError:
        return None, f"{value!r} is not a number"
    problem = number_problem(number, value)
    return (None, problem) if problem else (number, None)


def read_logframe(path: Path, registry_codes: set[str]) -> RawRead:
    """One report -> long rows (baseline, target, each actual), with its header fields."""
    try:
        sheet = read_sheet(path, SHEET, header=None)
    except FileLayoutError as err:
        if "no sheet" not in str(err):
            raise
        raise FileLayoutError(path, f"no sheet {SHEET!r}: not a logframe report") from None
    fields = {}
    header_row = None
    for index, row in sheet.iterrows():
        label = str(row.iloc[0]).strip() if pd.notna(row.iloc[0]) else ""
        if label in HEADER_FIELDS:
            fields[label] = row.iloc[1]
        if label == COLUMNS[0]:
            header_row = index
            break
    missing = [f for f in HEADER_FIELDS if f not in fields or pd.isna(fields[f])]
    if missing or header_row is None:
        raise FileLayoutError(
            path, f"not the logframe template: missing {missing or [COLUMNS[0] + ' header']}"
        )
    project = str(fields["Project code"]).strip()
    if project not in registry_codes:
        raise FileLayoutError(
            path, f"project code {project!r} is not in the JMDI registry", row=2, column="B"
        )
    try:
        report_date = _as_date(fields["Report date"])
    except ValueError as err:
        raise FileLayoutError(path, f"report date: {err}", row=4, column="B") from err
    labels = [str(v).strip() if pd.notna(v) else "" for v in sheet.iloc[header_row]]
    absent = [c for c in (*COLUMNS, AREAS_COLUMN) if c not in labels]
    if absent:
        raise FileLayoutError(path, f"missing columns {absent}", row=header_row + 1)
    actuals = {
        i: ACTUAL.match(label)["period"] for i, label in enumerate(labels) if ACTUAL.match(label)
    }
    result = RawRead(frame=pd.DataFrame(), vintage=f"{project} {fields['Reporting period']}")
    records = []
    for index in range(header_row + 1, len(sheet)):
        row = dict(zip(labels, sheet.iloc[index], strict=True))
        values = list(sheet.iloc[index])
        if all(pd.isna(v) or str(v).strip() == "" for v in values):
            break
        source_row = index + 1
        reasons = []
        sex = SEX.get(str(row["Sex"]).strip().lower()) if pd.notna(row["Sex"]) else "_T"
        if sex is None:
            reasons.append(f"column 'Sex': {row['Sex']!r} is not Total, Women or Men")
        areas = [c.strip() for c in str(row[AREAS_COLUMN] or "").split(";") if c.strip()]
        for code in areas:
            if report_date and admin_area_on(code, report_date) is None:
                reasons.append(
                    f"column {AREAS_COLUMN!r}: {code!r} was not an admin area on {report_date}"
                )
        parts = [
            ("baseline", row["Baseline value"], row["Baseline date"]),
            ("target", row["Target value"], row["Target date"]),
        ]
        parts += [("actual", values[i], period) for i, period in actuals.items()]
        rows = []
        for kind, cell, when in parts:
            value, problem = _number(cell)
            if problem:
                reasons.append(f"{kind} value: {problem}")
            elif value is not None:
                rows.append((kind, value, when))
        if reasons:
            result.reject(source_row, {k: str(v) for k, v in row.items()}, reasons)
            continue
        for kind, value, when in rows:
            period = when if kind == "actual" else None
            try:
                when_date = None if kind == "actual" else _as_date(when)
            except ValueError:
                when_date = None
            records.append(
                {
                    "source_row": source_row,
                    "project_code": project,
                    "reporting_period": str(fields["Reporting period"]),
                    "report_date": report_date,
                    "data_status": str(fields["Data status"]),
                    "indicator_code": str(row["Indicator code"]).strip(),
                    "indicator": str(row["Indicator"]).strip(),
                    "emp_indicator_id": str(row["EMP indicator"]).strip()
                    if pd.notna(row["EMP indicator"])
                    else None,
                    "unit": str(row["Unit"]).strip(),
                    "sex": sex,
                    "value_kind": kind,
                    "period": period,
                    "value_date": when_date,
                    "value": value,
                    "areas": ";".join(areas),
                }
            )
    result.frame = pd.DataFrame.from_records(records)
    return result


def write_logframe(
    path: Path,
    project_code: str,
    reporting_period: str,
    report_date: date,
    data_status: str,
    rows: list[dict[str, Any]],
    actual_periods: list[str],
) -> Path:
    """Write a report in the template; `rows` hold the template's columns as keys, plus
    `actual` (period -> value) and `areas` (list of codes). An empty `rows` is the blank form."""
    from openpyxl import Workbook  # writing templates only: kept off `emp check`'s path
    from openpyxl.styles import Font

    wb = Workbook()
    sheet = wb.active
    sheet.title = SHEET
    sheet.append(["EMP logframe report (template v1)"])
    sheet["A1"].font = Font(bold=True)
    for label, value in zip(
        HEADER_FIELDS, (project_code, reporting_period, report_date, data_status), strict=True
    ):
        sheet.append([label, value])
    sheet.append([])
    sheet.append([*COLUMNS, *[f"Actual {p}" for p in actual_periods], AREAS_COLUMN])
    for cell in sheet[sheet.max_row]:
        cell.font = Font(bold=True)
    for row in rows:
        sheet.append(
            [row.get(c) for c in COLUMNS]
            + [row.get("actual", {}).get(p) for p in actual_periods]
            + [";".join(row.get("areas", []))]
        )
    path.parent.mkdir(parents=True, exist_ok=True)
    wb.properties.creator = "EMP"
    wb.save(path)
    return path
