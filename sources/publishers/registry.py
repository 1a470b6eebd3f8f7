"""The publishers' series EMP reads (series.yaml), and recognising a release by its content.

A file is never identified by its name or folder: each layout reader looks at the file (sheet
names, header labels, the indicator code of a WDI download) and says which series and edition it
holds. A file may hold several series (a DataBank export) or none that EMP reads.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pandas as pd

from sources.i18n import N_
from sources.observations import FileLayoutError, RawRead
from sources.publishers.peek import peek
from sources.readers import mmp, uis, un_desa, unhcr, wb_rpw, wdi, world_bank
from sources.yaml_files import read_yaml

SERIES_FILE = Path(__file__).with_name("series.yaml")
#: Archived files are named `<UTC stamp>__<name as sent>`.
_ARCHIVE_STAMP = re.compile(r"^\d{8}T\d{6}Z(?:-\d+)?__")


class NotRecognisedError(ValueError):
    """No declared series matches the file's content; the message says what was seen."""


@dataclass(frozen=True)
class Series:
    id: str
    title: str
    publisher: str
    licence: str
    layout: str
    match: dict[str, Any]
    download: str = ""
    file: str = ""
    unit: str = ""
    unit_mult: int = 0
    tidy_file_stem: str | None = None
    #: how the figures were made: estimate, survey, administrative or census
    collection: str = "estimate"

    @property
    def raw_table(self) -> str:
        return f"raw.{self.id}"

    def matches(self, layout: str, key: dict[str, Any]) -> bool:
        if layout != self.layout:
            return False
        if "tidy_file" in key:
            name = _ARCHIVE_STAMP.sub("", key["tidy_file"]).lower()
            return bool(self.tidy_file_stem) and name.startswith(self.tidy_file_stem.lower())
        return all(key.get(name) == value for name, value in self.match.items())

    def harmonise(self, raw: pd.DataFrame) -> pd.DataFrame:
        return LAYOUTS[self.layout].harmonise(self, raw)

    def checked_frame(self, raw: pd.DataFrame) -> pd.DataFrame:
        """The harmonised rows the expectations run on, with the sheet each row came from
        where the release has sheets, so that a failure names the sheet as well as the row."""
        frame = self.harmonise(raw)
        if "sheet" in raw and "source_row" in frame and "series" in raw:
            sheets = raw[["source_row", "series", "sheet"]].drop_duplicates(
                ["source_row", "series"]
            )
            frame = frame.merge(sheets, on=["source_row", "series"], how="left")
        return frame

    def expectations(self) -> tuple:
        """Its own expectation suite, else its layout's (sources/expectations/), and one
        value per observation key."""
        from sources.expectations import suite_file, with_key_rule

        return tuple(with_key_rule(suite_file(self.id) or suite_file(self.layout)))


@dataclass(frozen=True)
class Release:
    """One series in one edition, as found in one file."""

    series: Series
    edition: str  # as the publisher states it: 2020, 2024-06-28, data to 2023
    order: str  # sortable: the newest edition sorts last
    vintage: str  # the edition in words, shown beside every figure
    options: dict[str, Any] = field(default_factory=dict)

    @property
    def source_id(self) -> str:
        return self.series.id

    def read(self, path: Path) -> RawRead:
        return LAYOUTS[self.series.layout].read(self.series, path, self.options)


@dataclass(frozen=True)
class Companion:
    """A file published beside a release that holds nothing to load (footnotes, metadata)."""

    description: str


@dataclass(frozen=True)
class Layout:
    recognise: Callable
    read: Callable[[Series, Path, dict], RawRead]
    harmonise: Callable[[Series, pd.DataFrame], pd.DataFrame]
    name: str


def _wdi_read(series: Series, path: Path, options: dict) -> RawRead:
    return wdi.read(path, options.get("indicator"), tidy_indicator=series.match["indicator"])


def _wdi_harmonise(series: Series, raw: pd.DataFrame) -> pd.DataFrame:
    return wdi.harmonise(raw, {series.match["indicator"]: (series.unit, series.unit_mult)})


def _unhcr_read(series: Series, path: Path, options: dict) -> RawRead:
    if series.match["table"] == "population":
        return unhcr.read_population(path)
    return unhcr.read_decisions(path)


def _unhcr_harmonise(series: Series, raw: pd.DataFrame) -> pd.DataFrame:
    if series.match["table"] == "population":
        return unhcr.harmonise_population(raw)
    return unhcr.harmonise_decisions(raw)


def _wb_harmonise(series: Series, raw: pd.DataFrame) -> pd.DataFrame:
    if series.match["matrix"] == "migration":
        return world_bank.harmonise_migration(raw)
    return world_bank.harmonise_remittances(raw)


def _rpw_read(series: Series, path: Path, options: dict) -> RawRead:
    return wb_rpw.read(path, options.get("series") or series.match["series"])


LAYOUTS: dict[str, Layout] = {
    "un_desa_ims": Layout(
        un_desa.recognise,
        lambda series, path, options: un_desa.read(path),
        lambda series, raw: un_desa.harmonise(raw),
        "a UN DESA International Migrant Stock workbook",
    ),
    "wdi": Layout(wdi.recognise, _wdi_read, _wdi_harmonise, "a World Development Indicators file"),
    "unhcr": Layout(
        unhcr.recognise, _unhcr_read, _unhcr_harmonise, "a UNHCR Refugee Data Finder export"
    ),
    "iom_mmp": Layout(
        mmp.recognise,
        lambda series, path, options: mmp.read(path),
        lambda series, raw: mmp.harmonise(raw),
        "an IOM Missing Migrants Project incident file",
    ),
    "uis": Layout(
        uis.recognise,
        lambda series, path, options: uis.read(path, series.match["indicator"]),
        lambda series, raw: uis.harmonise(raw, series.unit or "PS"),
        "a UNESCO Institute for Statistics bulk-data file",
    ),
    "wb_rpw": Layout(
        wb_rpw.recognise,
        _rpw_read,
        lambda series, raw: wb_rpw.harmonise(raw, series.unit or "PT"),
        "a World Bank Remittance Prices Worldwide corridor export",
    ),
    "wb_bilateral": Layout(
        world_bank.recognise,
        lambda series, path, options: world_bank.read_matrix(
            path, options["sheet"], options["year"]
        ),
        _wb_harmonise,
        "a World Bank/KNOMAD bilateral matrix",
    ),
}


@cache
def all_series(path: Path = SERIES_FILE) -> tuple[Series, ...]:
    """The declared series, checked: known layouts, unique ids."""
    data = read_yaml(Path(path)) or {}
    found, seen = [], set()
    for number, entry in enumerate(data.get("series", []), start=1):
        try:
            series = Series(**entry)
        except TypeError as err:
            raise ValueError(f"{path}: series entry {number}: {err}") from None
        if series.layout not in LAYOUTS:
            raise ValueError(
                f"{path}: series {series.id!r}: unknown layout {series.layout!r} "
                f"(known: {', '.join(LAYOUTS)})"
            )
        if series.id in seen:
            raise ValueError(f"{path}: series {series.id!r} is declared twice")
        seen.add(series.id)
        found.append(series)
    return tuple(found)


def series_by_id() -> dict[str, Series]:
    return {s.id: s for s in all_series()}


def recognise(
    path: Path, name: str | None = None, sent_from: Path | None = None
) -> list[Release | Companion]:
    """The releases (or the companion file) that `path` holds, from its content. `name` is the
    file's name as sent and `sent_from` its folder (when `path` is a staged copy). Raises
    NotRecognisedError with what was seen, or FileLayoutError if the file cannot be looked at."""
    name = name or Path(path).name
    look = peek(Path(path))
    look.sent_from = sent_from
    for layout_name, layout in LAYOUTS.items():
        try:
            matches = layout.recognise(look)
        except FileLayoutError:
            raise
        except (ValueError, KeyError, IndexError) as err:
            raise FileLayoutError(path, f"looks like {layout.name} but: {err}") from None
        if not matches:
            continue
        found: list[Release | Companion] = []
        unknown = []
        for match in matches:
            if "companion" in match:
                found.append(Companion(match["companion"]))
                continue
            key = dict(match["key"])
            if "tidy_file" in key:
                key["tidy_file"] = name
            series = [s for s in all_series() if s.matches(layout_name, key)]
            if not series:
                unknown.append(key)
                continue
            found.append(
                Release(
                    series[0],
                    match["edition"],
                    match["order"],
                    match["vintage"],
                    dict(match.get("options", {})),
                )
            )
        if found:
            return found
        what = ", ".join(f"{k} {v}" for key in unknown for k, v in key.items())
        raise NotRecognisedError(UNDECLARED.format(name=name, layout=layout.name, what=what))
    raise NotRecognisedError(
        UNRECOGNISED.format(
            name=name, layouts="; ".join(layout.name for layout in LAYOUTS.values())
        )
    )


#: Why a file in the public folder is held back, as templates the reader's language shows.
UNDECLARED = N_(
    "{name}: {layout} ({what}), but no series in sources/publishers/series.yaml declares it; "
    "add an entry to read it"
)
UNRECOGNISED = N_("{name}: not a release of any declared publisher series (looked for {layouts})")
