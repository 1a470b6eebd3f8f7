"""Census codebooks: one YAML per census round maps its variables and codes to canonical ones."""

from __future__ import annotations

from datetime import date
from functools import cache
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from sources.data_home import CODEBOOK_DIR as BUNDLED_CODEBOOKS
from sources.yaml_files import read_yaml

CODEBOOK_DIR = BUNDLED_CODEBOOKS

#: Canonical person variables and their DuckDB types.
PERSON_VARIABLES = {
    "person_id": "BIGINT",
    "household_id": "BIGINT",
    "is_head": "BOOLEAN",
    "weight": "DOUBLE",
    "sex": "VARCHAR",
    "age": "INTEGER",
    "birth_country": "VARCHAR",
    "citizenship": "VARCHAR",
    "arrival_year": "INTEGER",
    "residence_5y_country": "VARCHAR",
    "residence_5y_region": "VARCHAR",
    "region": "VARCHAR",
    "province": "VARCHAR",
    "birth_region": "VARCHAR",
    "education": "INTEGER",
    "activity": "VARCHAR",
}
#: Canonical variables of the household module on members living abroad.
ABROAD_VARIABLES = {
    "household_id": "BIGINT",
    "sex": "VARCHAR",
    "age": "INTEGER",
    "destination": "VARCHAR",
    "departure_year": "INTEGER",
}
SPECIAL_CODES = ("m49", "iso3")  # country code lists EMP knows already


class CodebookError(ValueError):
    """A codebook is malformed, or a census file does not match its codebook."""


class Variable(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    variable: str
    codes: str | dict[str | int, str | int] | None = None  # a code list name, or a mapping
    missing: list[str | int] = Field(default_factory=list)  # source codes meaning "not asked"


class Codebook(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(pattern=r"^[a-z]{3}_\d{4}$")
    country: str = Field(pattern=r"^[A-Z]{3}$")
    census_round: int
    reference_date: date
    synthetic: bool = False
    description: str = ""
    format: Literal["parquet", "csv", "dta", "sav"] = "parquet"
    persons: dict[str, Variable]
    members_abroad: dict[str, Variable] = Field(default_factory=dict)
    code_lists: dict[str, dict[str | int, str | int]] = Field(default_factory=dict)
    calibration: dict = Field(default_factory=dict)  # what the synthetic generator draws from

    @model_validator(mode="after")
    def _complete(self) -> Codebook:
        problems = []
        for block, canonical in (
            ("persons", PERSON_VARIABLES),
            ("members_abroad", ABROAD_VARIABLES),
        ):
            mapped = getattr(self, block)
            if block == "members_abroad" and not mapped:
                continue
            missing = sorted(set(canonical) - set(mapped))
            unknown = sorted(set(mapped) - set(canonical))
            if missing:
                problems.append(f"{block}: no source variable for {missing}")
            if unknown:
                problems.append(f"{block}: {unknown} are not canonical variables")
            for name, var in mapped.items():
                if isinstance(var.codes, str) and var.codes not in (
                    *SPECIAL_CODES,
                    *self.code_lists,
                ):
                    problems.append(f"{block}.{name}: code list {var.codes!r} is not declared")
        if problems:
            raise ValueError("; ".join(problems))
        return self

    def persons_codes(self, name: str) -> dict[str, str]:
        """The code table of a person variable (source code -> canonical)."""
        return self.code_table(self.persons[name]) or {}

    def code_table(self, var: Variable) -> dict[str, str] | None:
        """Source code (as text) -> canonical code; None when the variable is not coded."""
        if var.codes is None or var.codes in SPECIAL_CODES:
            return None
        table = self.code_lists[var.codes] if isinstance(var.codes, str) else var.codes
        return {str(k): str(v) for k, v in table.items()}


def load_codebook(path: Path) -> Codebook:
    try:
        return Codebook.model_validate(read_yaml(path))
    except ValidationError as err:
        lines = [
            f"  {'.'.join(map(str, e['loc'])) or '(codebook)'}: {e['msg']}" for e in err.errors()
        ]
        raise CodebookError(f"{path}:\n" + "\n".join(lines)) from None


def census_source_id(codebook: Codebook) -> str:
    """The source id a census's batches and indicators carry: census_<iso3>."""
    return f"census_{codebook.country.lower()}"


@cache
def codebooks() -> dict[str, Codebook]:
    return {cb.id: cb for cb in map(load_codebook, sorted(CODEBOOK_DIR.glob("*.yaml")))}
