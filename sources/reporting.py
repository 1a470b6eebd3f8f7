"""The register of what is owed: per country, which ministry or office sends which dataset, for
which periods and by when (a YAML file beside the specs, `<specs>/<ISO3>.reporting.yaml`), and
the reporting status it gives once the files received are known: on time, late, held back,
overdue or not yet due, with completeness and timeliness rates per ministry and overall (as
DHIS2 reports them for its data sets).

Everything here is plain data in, plain data out: the warehouse says what was received
(`warehouse/reporting.py`), the publishing side shows the table (Part D, `emp status`)."""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import asdict, dataclass
from datetime import date, datetime, timedelta
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from sources.i18n import N_
from sources.registers import register_entries
from sources.submissions import period_end

REGISTER_SUFFIX = ".reporting.yaml"
Periodicity = Literal["year", "quarter", "month"]
_PERIOD = {
    "year": re.compile(r"^(?P<year>\d{4})$"),
    "quarter": re.compile(r"^(?P<year>\d{4})-Q(?P<quarter>[1-4])$"),
    "month": re.compile(r"^(?P<year>\d{4})-(?P<month>0[1-9]|1[0-2])$"),
}
#: what each status means, in the reader's words (the order is the table's)
STATUSES = {
    "on_time": N_("received on time"),
    "late": N_("received late"),
    "held_back": N_("received, held back"),
    "overdue": N_("overdue: nothing received"),
    "not_due": N_("not yet due"),
}


class RegisterError(ValueError):
    """A register that cannot be read, naming the file and the entry."""


class Obligation(BaseModel):
    """One dataset a ministry or office owes the profile."""

    model_config = ConfigDict(extra="forbid")

    dataset: str = Field(pattern=r"^[a-z][a-z0-9_]*$")  # the spec id
    #: who sends it and how often; taken from the spec when it has one
    ministry: str | None = None
    ministry_name: str | None = None
    dataset_name: str | None = None
    periodicity: Periodicity | None = None
    first: str = Field(alias="from")  # the first period owed: 2019, 2019-Q1, 2019-01
    last: str | None = Field(default=None, alias="to")  # default: every period ended since
    days_after_period: int = Field(default=90, ge=0, le=3660)  # the deadline, after period end
    deadlines: dict[str, date] = Field(default_factory=dict)  # a period's own deadline

    @model_validator(mode="before")
    @classmethod
    def _periods_as_text(cls, data: object) -> object:
        if isinstance(data, dict):  # YAML reads 2019 as a number
            data = {
                k: str(v) if k in ("from", "to") and v is not None else v for k, v in data.items()
            }
            if isinstance(data.get("deadlines"), dict):
                data["deadlines"] = {str(k): v for k, v in data["deadlines"].items()}
        return data


@dataclass(frozen=True)
class Receipt:
    """A file received for a dataset: the periods it holds (empty when it could not be read far
    enough to say), when, which batch, and whether it passed validation."""

    dataset: str
    periods: tuple[str, ...]
    received_at: datetime
    batch: str
    validated: bool
    reason: str | None = None


@dataclass(frozen=True)
class PeriodStatus:
    ministry: str
    ministry_name: str
    dataset: str
    dataset_name: str
    period: str
    deadline: str
    status: str  # a key of STATUSES
    received_at: str | None = None
    batch: str | None = None
    reason: str | None = None

    def as_dict(self) -> dict:
        return asdict(self)


def register_path(specs_folder: Path, country: str) -> Path:
    return Path(specs_folder) / f"{country}{REGISTER_SUFFIX}"


def registered_countries(specs_folder: Path) -> list[str]:
    return sorted(
        p.name[: -len(REGISTER_SUFFIX)] for p in Path(specs_folder).glob(f"*{REGISTER_SUFFIX}")
    )


def obligations(specs_folder: Path, country: str) -> list[Obligation]:
    """The datasets the country's register says are owed (none without a register)."""
    path = register_path(specs_folder, country)
    found = register_entries(
        path if path.exists() else None, "datasets", Obligation, RegisterError, "dataset"
    )
    for entry in found:
        for text in (entry.first, entry.last, *entry.deadlines):
            if text is not None and not any(p.match(text) for p in _PERIOD.values()):
                raise RegisterError(
                    f"{path}, dataset {entry.dataset}: {text!r} is not a period "
                    "(2019, 2019-Q1 or 2019-01)"
                )
    return found


def _next(period: str, periodicity: str) -> str:
    year = int(period[:4])
    if periodicity == "year":
        return str(year + 1)
    if periodicity == "quarter":
        quarter = int(period[-1])
        return f"{year + quarter // 4}-Q{quarter % 4 + 1}"
    month = int(period[5:7])
    return f"{year + month // 12}-{month % 12 + 1:02d}"


def periods_owed(entry: Obligation, periodicity: str, as_of: date) -> list[str]:
    """The periods from the first owed to the last (or to the last ended by `as_of`)."""
    if not _PERIOD[periodicity].match(entry.first):
        raise RegisterError(
            f"dataset {entry.dataset}: {entry.first!r} is not a period of its periodicity "
            f"({periodicity})"
        )
    found, period = [], entry.first
    while len(found) < 1200:
        if entry.last is not None and period > entry.last:
            break
        if entry.last is None and period_end(period) > as_of:
            break
        found.append(period)
        period = _next(period, periodicity)
    return found


def deadline_of(entry: Obligation, period: str) -> date:
    return entry.deadlines.get(period) or period_end(period) + timedelta(
        days=entry.days_after_period
    )


def period_statuses(
    entries: Iterable[Obligation],
    described: dict[str, dict],
    receipts: Iterable[Receipt],
    as_of: date,
) -> list[PeriodStatus]:
    """The status of each period owed. `described` gives, per dataset with a spec, its ministry,
    ministry_name, dataset_name and periodicity (what the register leaves out comes from there).
    A period is received when a batch holds it (the first that validated counts for timeliness);
    a file held back before its periods could be read holds back every period still missing."""
    by_dataset: dict[str, list[Receipt]] = defaultdict(list)
    for receipt in receipts:
        by_dataset[receipt.dataset].append(receipt)
    rows = []
    for entry in entries:
        spec = described.get(entry.dataset, {})
        periodicity = entry.periodicity or spec.get("periodicity") or "year"
        who = entry.ministry or spec.get("ministry") or "?"
        name = entry.ministry_name or spec.get("ministry_name") or who
        title = entry.dataset_name or spec.get("dataset_name") or entry.dataset
        got = sorted(by_dataset.get(entry.dataset, []), key=lambda r: r.received_at)
        for period in periods_owed(entry, periodicity, as_of):
            deadline = deadline_of(entry, period)
            holding = [r for r in got if period in r.periods]
            valid = [r for r in holding if r.validated]
            unread = [r for r in got if not r.periods and not r.validated]
            if valid:
                first = valid[0]
                status = "on_time" if first.received_at.date() <= deadline else "late"
                found = first
            elif holding or unread:
                found = (holding or unread)[-1]
                status = "held_back"
            else:
                found = None
                status = "overdue" if deadline < as_of else "not_due"
            rows.append(
                PeriodStatus(
                    who,
                    name,
                    entry.dataset,
                    title,
                    period,
                    deadline.isoformat(),
                    status,
                    found.received_at.strftime("%Y-%m-%d %H:%M") if found else None,
                    found.batch if found else None,
                    found.reason if found and status == "held_back" else None,
                )
            )
    return rows


def rates(rows: Iterable[PeriodStatus | dict]) -> list[dict]:
    """Completeness (periods received and validated, of those due) and timeliness (of those
    due, validated by the deadline), per ministry and overall (`ministry` None). A period is due
    once its deadline has passed or something was received for it."""
    counts: dict[str | None, dict] = {}
    for row in rows:
        row = row if isinstance(row, dict) else row.as_dict()
        for key in (row["ministry"], None):
            count = counts.setdefault(
                key,
                {
                    "ministry": key,
                    "ministry_name": row["ministry_name"] if key else None,
                    **{status: 0 for status in STATUSES},
                },
            )
            count[row["status"]] += 1
    result = []
    for count in counts.values():
        due = sum(count[s] for s in STATUSES if s != "not_due")
        received = count["on_time"] + count["late"]
        result.append(
            {
                **count,
                "due": due,
                "completeness": received / due if due else None,
                "timeliness": count["on_time"] / due if due else None,
            }
        )
    return sorted(result, key=lambda c: (c["ministry"] is None, c["ministry"] or ""))


def by_dataset(rows: Iterable[PeriodStatus | dict]) -> list[dict]:
    """One line per ministry and dataset: the periods owed, in each status, the last file
    received (when, which batch) and why anything is held back; as `emp status`, Part D and the
    site's reporting-status page show it."""
    found: dict[tuple[str, str], dict] = {}
    for row in rows:
        row = row if isinstance(row, dict) else row.as_dict()
        line = found.setdefault(
            (row["ministry"], row["dataset"]),
            {
                "ministry": row["ministry"],
                "ministry_name": row["ministry_name"],
                "dataset": row["dataset"],
                "dataset_name": row["dataset_name"],
                "owed": 0,
                **{status: [] for status in STATUSES},
                "received_at": None,
                "batch": None,
                "reasons": [],
            },
        )
        line["owed"] += 1
        line[row["status"]].append(row["period"])
        if row["received_at"] and (line["received_at"] or "") <= row["received_at"]:
            line["received_at"], line["batch"] = row["received_at"], row["batch"]
        if row["reason"] and row["reason"] not in line["reasons"]:
            line["reasons"].append(row["reason"])
    return sorted(found.values(), key=lambda line: (line["ministry"], line["dataset"]))
