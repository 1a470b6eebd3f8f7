"""Source specs: one YAML file per ministry dataset declares how to read its files.

Onboarding a new ministry file means writing a spec in `sources/specs/<ministry>/`, not code. A
spec is checked against the model below; every mistake is reported with its place in the file.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sources.data_home import SPECS_DIR as BUNDLED_SPECS_DIR
from sources.errors import SpecError
from sources.expectations import Rule
from sources.patterns import spec_pattern
from sources.yaml_files import read_yaml

SPECS_DIR = BUNDLED_SPECS_DIR

Dimension = Literal[
    "ref_area", "counterpart_area", "sex", "age", "migrant_status", "education", "breakdown"
]
SEX_CODES = {"M", "F", "_T"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ColumnSpec(_Strict):
    """A column holding a dimension: its labels are mapped to codes."""

    dimension: Dimension
    codes: dict[str, str] = Field(default_factory=dict)
    country_names: Literal["en", "fr", "ro"] | None = None
    #: the cells already hold codes: ISO 3166-1 alpha-3 or alpha-2, or UN M49 numbers
    code_list: Literal["iso3", "iso2", "m49"] | None = None
    #: labels whose rows are left out on purpose, with the reason (not quarantined)
    drop: dict[str, str] = Field(default_factory=dict)
    #: rows whose labels map to one code are added up (`MIDWAY ISLAND` + `WAKE ISLAND` = UMI)
    sum_labels: bool = False
    #: the code of an empty cell, for a column that fills its dimension on some rows only
    blank: str | None = None
    #: sub-national codes mapped to the area valid in each period (back-cast series)
    as_of_period: bool = False

    @model_validator(mode="after")
    def _codes_or_names(self) -> ColumnSpec:
        if self.dimension in ("ref_area", "counterpart_area") and not (
            self.codes or self.country_names or self.code_list
        ):
            raise ValueError("an area column needs `codes`, `country_names` or `code_list`")
        if self.as_of_period and self.dimension not in ("ref_area", "counterpart_area"):
            raise ValueError("`as_of_period` is for area columns")
        if self.dimension == "sex":
            wrong = sorted(set(self.codes.values()) - SEX_CODES)
            if wrong:
                raise ValueError(f"sex codes must be M, F or _T, not {wrong}")
        return self


class Feed(_Strict):
    """An indicator this measure feeds, optionally only for some dimension values."""

    indicator: str
    where: dict[str, str] = Field(default_factory=dict)


class MeasureSpec(_Strict):
    """A column holding values of one series (by default the column named like the measure)."""

    series: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    #: the file's column holding the values, when several measures share one column
    column: str | None = None
    #: only the rows whose label in a column is one of these ("" for an empty cell)
    rows: dict[str, list[str]] = Field(default_factory=dict)
    unit: str
    unit_mult: int = 0
    stat_type: Literal["stock", "flow", "ratio"]
    basis: str | None = None
    dimensions: dict[Dimension, str] = Field(default_factory=dict)  # fixed by the column
    feeds: list[Feed] = Field(default_factory=list)


class PeriodSpec(_Strict):
    """Where the reference period comes from: the file name, a column, or the column headers."""

    frequency: Literal["year", "quarter", "month"]
    from_filename: str | None = None
    column: str | None = None
    columns: str | None = None  # headers that are periods (wide layout), matched by this regex
    measure: str | None = None  # with `columns`: the measure their cells hold
    pattern: str = r"(?P<year>\d{4})"

    @model_validator(mode="after")
    def _one_place(self) -> PeriodSpec:
        places = [p for p in (self.from_filename, self.column, self.columns) if p]
        if len(places) != 1:
            raise ValueError("give exactly one of from_filename, column, columns")
        regex = self.pattern if self.column else places[0]
        for text in {regex, *places} - {self.column}:
            spec_pattern(text)  # PatternError (a ValueError) names what cannot be used
        groups = set(spec_pattern(regex).groupindex)
        needed = {"year"} | ({"quarter"} if self.frequency == "quarter" else set())
        needed |= {"month"} if self.frequency == "month" else set()
        if not needed <= groups:
            raise ValueError(f"{regex!r} must have the named groups {sorted(needed)}")
        if self.columns and not self.measure:
            raise ValueError("`columns` needs `measure`: the series the cells hold")
        return self


class OpenSdgSpec(_Strict):
    """A statistics office's Open SDG data file (`data/indicator_<id>.csv`: `Year` first,
    disaggregation columns, blank = total, `Value` last) of one SDG indicator."""

    indicator: str = Field(pattern=r"^\d{1,2}-[0-9a-z]{1,2}-\d{1,2}$")  # as in the file name
    series: str = Field(pattern=r"^[A-Z][A-Z0-9_]*$")
    unit: str
    unit_mult: int = 0
    stat_type: Literal["stock", "flow", "ratio"]
    basis: str | None = None
    rows: dict[str, list[str]] = Field(default_factory=dict)

    @property
    def sdg_number(self) -> str:
        return self.indicator.replace("-", ".")


#: A spec feeds the catalogue indicator of an SDG number through this prefix.
SDG_FEED = "SDG:"


def _expand_open_sdg(data: dict) -> dict:
    """An `open_sdg` spec written short -> the full CSV spec it stands for."""
    if not isinstance(data, dict) or data.get("format") != "open_sdg":
        return data
    found = OpenSdgSpec.model_validate(data.get("open_sdg") or {})
    columns = {
        name: {"blank": "_T", **(column or {})}
        for name, column in (data.get("columns") or {}).items()
    }
    constants = dict(data.get("constants") or {})
    if not any(c.get("dimension") == "ref_area" for c in columns.values()):
        constants.setdefault("ref_area", data.get("country"))
    return {
        **data,
        "format": "csv",
        "file_pattern": data.get("file_pattern") or f"indicator_{found.indicator}.csv",
        "period": {"frequency": "year", "column": "Year"},
        "columns": columns,
        "constants": constants,
        "measures": {
            "Value": {
                "series": found.series,
                "unit": found.unit,
                "unit_mult": found.unit_mult,
                "stat_type": found.stat_type,
                "basis": found.basis,
                "rows": found.rows,
                "feeds": [{"indicator": f"{SDG_FEED}{found.sdg_number}"}],
            }
        },
    }


class SourceSpec(_Strict):
    """How to read one ministry dataset."""

    id: str = Field(pattern=r"^[a-z][a-z0-9_]*$")
    version: int = Field(ge=1)
    ministry: str = Field(pattern=r"^[A-Za-z0-9_-]+$")
    ministry_name: str
    dataset: str
    #: the reporting country (ISO 3166-1 alpha-3), or `*` for a file covering many, whose
    #: reference area comes from a column
    country: str = Field(pattern=r"^([A-Z]{3}|\*)$")
    synthetic: bool = False
    #: how the office made the figures: administrative (registered events or persons, no
    #: sampling error), survey (a sample) or census
    collection: Literal["administrative", "survey", "census"] = "administrative"
    file_pattern: str
    format: Literal["csv", "xlsx", "xls", "parquet"]
    sheet: str | int | None = None
    encoding: str = "utf-8"
    delimiter: str = ","
    decimal: str = "."
    thousands: str | None = None
    skip_rows: int = Field(default=0, ge=0)
    header_rows: int = Field(default=1, ge=1, le=12)  # real workbooks stack up to a dozen
    stop_at_blank_row: bool = True
    period: PeriodSpec
    columns: dict[str, ColumnSpec] = Field(default_factory=dict)
    measures: dict[str, MeasureSpec]
    constants: dict[Dimension, str] = Field(default_factory=dict)
    description: str = ""
    expectations: list[Rule] = Field(default_factory=list)
    #: codes declared for entities without an ISO 3166 code (a dissolved state, a territory
    #: the publisher reports apart): code -> name; accepted wherever an area code is checked
    areas: dict[str, str] = Field(default_factory=dict)
    #: for a statistics office's Open SDG data file: which indicator, which series (the rest
    #: of the spec is filled in: `Year`, `Value`, blank = total)
    open_sdg: OpenSdgSpec | None = None

    @model_validator(mode="before")
    @classmethod
    def _open_sdg(cls, data: object) -> object:
        return _expand_open_sdg(data)

    @property
    def rules(self) -> list[Rule]:
        """The expectations, with the declared area codes accepted by `area_codes` rules, and
        one value per observation key (for every spec, the `open_sdg` shorthand included)."""
        from sources.expectations import with_key_rule

        extra = sorted(self.areas)
        return with_key_rule(
            [
                r.model_copy(update={"extra_codes": [*r.extra_codes, *extra]})
                if r.rule == "area_codes" and extra
                else r
                for r in self.expectations
            ]
        )

    @field_validator("encoding")
    @classmethod
    def _known_encoding(cls, value: str) -> str:
        import codecs

        try:
            codecs.lookup(value)
        except LookupError as err:
            raise ValueError(f"unknown encoding {value!r}") from err
        return value

    @model_validator(mode="after")
    def _consistent(self) -> SourceSpec:
        dims = [c.dimension for c in self.columns.values()] + list(self.constants)
        shared = {  # several columns may fill one dimension, each on its own rows
            d
            for d in dims
            if d not in self.constants
            and all(c.blank is not None for c in self.columns.values() if c.dimension == d)
        }
        doubled = sorted({d for d in dims if dims.count(d) > 1} - shared)
        if doubled:
            raise ValueError(
                f"dimensions given twice (column and constant?): {doubled}; columns that fill "
                "one dimension on different rows each need `blank` (the code of an empty cell)"
            )
        if self.country == "*" and not any(
            c.dimension == "ref_area" for c in self.columns.values()
        ):
            raise ValueError("country `*` (many reporting countries) needs a ref_area column")
        if "ref_area" not in dims:
            raise ValueError("no ref_area: map a column to it or set constants.ref_area")
        for name, measure in self.measures.items():
            if self.period.columns and measure.rows:
                raise ValueError(f"measure {name!r}: `rows` is for files with a value column")
        if self.period.columns and self.period.measure not in self.measures:
            raise ValueError(f"period.measure {self.period.measure!r} is not in measures")
        if self.format in ("xlsx", "xls") and self.sheet is None:
            raise ValueError("an Excel spec needs `sheet`")
        return self

    @property
    def source_id(self) -> str:
        return self.id

    def matches(self, file_name: str) -> bool:
        """Whether a file is this dataset by its name: as the pattern says, or as its
        data-collection template (the same name ending in .xlsx, whatever format the spec
        reads)."""
        from fnmatch import fnmatch

        return fnmatch(self.name_as_sent(file_name), self.file_pattern)

    def is_template(self, file_name: str) -> bool:
        """A workbook sent in the spec's collection template, for a spec reading another
        format."""
        from fnmatch import fnmatch

        return (
            self.format not in ("xlsx", "xls")
            and file_name.lower().endswith(TEMPLATE_SUFFIX)
            and not fnmatch(file_name, self.file_pattern)
        )

    def name_as_sent(self, file_name: str) -> str:
        """The name the spec's patterns read: a template's name with the spec's own extension."""
        if not self.is_template(file_name):
            return file_name
        extension = Path(self.file_pattern).suffix
        return file_name[: -len(TEMPLATE_SUFFIX)] + extension if extension else file_name


#: a data-collection template is a workbook, whatever format its spec reads
TEMPLATE_SUFFIX = ".xlsx"


def load_spec(path: Path) -> SourceSpec:
    """Read and check one spec file."""
    try:
        document = read_yaml(path)
    except yaml.YAMLError as err:
        raise SpecError(f"{path}: not valid YAML: {err}") from err
    except OSError as err:  # a folder named like a spec, a file that cannot be opened
        raise SpecError(f"{path}: cannot be read ({err.strerror})") from None
    if not isinstance(document, dict):
        raise SpecError(f"{path}: a spec is a mapping of fields")
    try:
        return SourceSpec.model_validate(document)
    except ValidationError as err:
        lines = [
            f"  {'.'.join(str(p) for p in e['loc']) or '(spec)'}: {e['msg']}" for e in err.errors()
        ]
        raise SpecError(f"{path}: {len(lines)} problem(s)\n" + "\n".join(lines)) from None


@dataclass(frozen=True)
class HeldBackSpec:
    """A spec file that cannot be used: its files wait (they are not rejected) until it is fixed."""

    path: str
    ministry: str
    id: str | None
    file_pattern: str | None
    reason: str
    country: str = "*"  # the profile it belongs to, '*' when the spec does not say

    def matches(self, file_name: str) -> bool:
        from fnmatch import fnmatch

        return self.file_pattern is None or fnmatch(file_name, self.file_pattern)


@dataclass(frozen=True)
class SpecSet:
    """The specs in force, and the spec files held back with the reason (one bad spec holds
    back its own dataset only)."""

    specs: dict[str, SourceSpec]
    held_back: tuple[HeldBackSpec, ...] = ()

    @property
    def held_back_ids(self) -> frozenset[str]:
        """Ids of the specs held back (where their id could be read)."""
        return frozenset(h.id for h in self.held_back if h.id)

    def problems(self) -> list[str]:
        return [h.reason for h in self.held_back]

    def held_back_for(self, ministry: str, file_name: str) -> HeldBackSpec | None:
        return next(
            (h for h in self.held_back if h.ministry == ministry and h.matches(file_name)), None
        )


def _raw_fields(path: Path) -> dict:
    """What can still be read of a spec that does not validate (id, file pattern)."""
    try:
        document = read_yaml(path)
    except (yaml.YAMLError, OSError, UnicodeDecodeError):
        return {}
    return document if isinstance(document, dict) else {}


def load_spec_set(
    folder: Path = SPECS_DIR, indicator_ids: set[str] | frozenset[str] | None = None
) -> SpecSet:
    """Every spec under `folder` (one sub-folder per ministry). A spec that does not validate,
    sits in the wrong folder, reuses an id, or (given `indicator_ids`) feeds an indicator that
    is not in the catalogue is held back with the reason; the others are in force."""
    specs: dict[str, SourceSpec] = {}
    held: list[HeldBackSpec] = []

    def hold(path: Path, reason: str, spec: SourceSpec | None = None) -> None:
        raw = _raw_fields(path)
        pattern = spec.file_pattern if spec else raw.get("file_pattern")
        country = spec.country if spec else raw.get("country")
        held.append(
            HeldBackSpec(
                str(path),
                path.parent.name,
                spec.id if spec else (str(raw["id"]) if raw.get("id") else None),
                pattern if isinstance(pattern, str) else None,
                reason,
                country if isinstance(country, str) and len(country) == 3 else "*",
            )
        )

    for path in sorted(Path(folder).glob("*/*.yaml")):
        if path.is_symlink():
            hold(path, f"{path}: a symbolic link; specs are refused as links")
            continue
        try:
            spec = load_spec(path)
        except SpecError as err:
            hold(path, " ".join(str(err).split()))
            continue
        if spec.ministry != path.parent.name:
            hold(path, f"{path}: ministry {spec.ministry!r} but folder {path.parent.name!r}", spec)
            continue
        if spec.id in specs:
            hold(path, f"{path}: id {spec.id!r} is used by another spec", spec)
            continue
        if indicator_ids is not None:
            unknown = [
                f"measure {name!r} feeds {feed.indicator!r}"
                for name, measure in spec.measures.items()
                for feed in measure.feeds
                if feed.indicator not in indicator_ids
            ]
            if unknown:
                hold(
                    path,
                    f"{path}: {'; '.join(unknown)}, which is not in the indicator catalogue",
                    spec,
                )
                continue
        specs[spec.id] = spec
    return SpecSet(specs, tuple(held))


def load_specs(folder: Path = SPECS_DIR) -> dict[str, SourceSpec]:
    """Every spec under `folder`, by id; raises SpecError listing every spec that is held back
    (`emp check --specs` and the tests want them all valid)."""
    found = load_spec_set(folder)
    if found.held_back:
        raise SpecError("\n".join(found.problems()))
    return found.specs


def _fingerprint(folder: Path) -> tuple:
    return tuple(
        (str(p), p.stat().st_mtime_ns, p.stat().st_size) for p in sorted(folder.glob("*/*.yaml"))
    )


@cache
def _spec_set_in(folder: str, fingerprint: tuple, indicator_ids: frozenset[str]) -> SpecSet:
    return load_spec_set(Path(folder), indicator_ids)


def spec_set(folder: Path | str | None = None) -> SpecSet:
    """The specs in `folder` (default: the bundled sources/specs) with those held back, read
    again whenever a spec file (or the catalogue they feed) changes."""
    from indicators.catalogue import catalogue_ids

    path = Path(folder or SPECS_DIR).resolve()
    return _spec_set_in(str(path), _fingerprint(path), catalogue_ids())


def bundled_specs(folder: Path | str | None = None) -> dict[str, SourceSpec]:
    """The specs in force in `folder` (default: the bundled sources/specs)."""
    return spec_set(folder).specs
