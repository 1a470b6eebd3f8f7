"""`emp serve`: the public site and, read-only, what a researcher scripts against: an SDMX REST
subset over each profile's published SDMX (structure queries, `data/{flow}/{key}` with
startPeriod and endPeriod, SDMX-ML 2.1 or SDMX-CSV 2.0 by the Accept header or `format`), the
projects' baselines (JSON, CSV or Parquet), and the list of editions. Every URL takes
`edition=<version>` to pin an edition; without it, the latest approved one (else the newest
draft) answers. Only files of published editions and of the site can be read: country and
version are checked against what was published, and a path that leaves its folder (`..`, a
symbolic link) is not found."""

from __future__ import annotations

import io
import math
import re
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
import sdmx
from sdmx.model import v21
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from publish.approvals import current_edition, with_status
from publish.snapshot_index import list_snapshots

SDMX_XML = "application/vnd.sdmx.structurespecificdata+xml;version=2.1"
SDMX_STRUCTURE = "application/vnd.sdmx.structure+xml;version=2.1"
SDMX_CSV = "application/vnd.sdmx.data+csv;version=2.0.0"
FLOW = re.compile(r"^DF_(SDG|EMP)_([A-Z]{3})$")
RESOURCE = re.compile(r"^[A-Z][A-Z0-9_]*_([A-Z]{3})$")
VERSION = re.compile(r"^\d{8}T\d{6}Z$")
COUNTRY = re.compile(r"^[A-Z]{3}$")
STRUCTURES = {"dataflow", "datastructure", "codelist", "conceptscheme", "structure"}
STEMS = {"SDG": "sdg", "EMP": "national"}


def _not_found(detail: str) -> HTTPException:
    return HTTPException(404, detail)


class Published:
    """The published editions under a snapshots folder, as the server may read them."""

    def __init__(self, snapshots: Path) -> None:
        self.root = Path(snapshots).resolve()

    def edition(self, country: str, version: str | None) -> Path:
        """The folder of a published edition; the current one when no version is given."""
        if not COUNTRY.fullmatch(country or ""):
            raise _not_found(f"no profile {country!r}")
        if version is None:
            snap, _status = current_edition(self.root, country)
            if not snap:
                raise _not_found(f"no published edition of {country}")
            return Path(snap["path"])
        if not VERSION.fullmatch(version):
            raise _not_found(f"no edition {version!r} of {country}")
        listed = {s["version"]: Path(s["path"]) for s in list_snapshots(self.root, country)}
        if version not in listed:
            raise _not_found(f"no edition {version} of {country}")
        return listed[version]

    def file(self, folder: Path, relative: str) -> Path:
        """A file of an edition, refused when it (or a link on its way) leads outside."""
        path = folder / relative
        if not path.is_file() or not path.resolve().is_relative_to(self.root):
            raise _not_found(f"{relative} is not published")
        return path


@lru_cache(maxsize=32)
def _structure(path: Path, _stamp: float) -> sdmx.message.StructureMessage:
    return sdmx.read_sdmx(path)


@lru_cache(maxsize=32)
def _rows(path: Path, _stamp: float) -> pd.DataFrame:
    return pd.read_csv(path, dtype=str, keep_default_na=False)


def _stamped(path: Path) -> tuple[Path, float]:
    return path, path.stat().st_mtime


def _wants_csv(request: Request) -> bool:
    asked = request.query_params.get("format", "").lower()
    if asked:
        return asked in ("csv", "sdmx-csv", "csvfile")
    return "csv" in request.headers.get("accept", "").lower()


def _period_in(periods: pd.Series, start: str | None, end: str | None) -> pd.Series:
    keep = pd.Series(True, index=periods.index)
    if start:
        keep &= periods.str[: len(start)] >= start
    if end:
        keep &= periods.str[: len(end)] <= end
    return keep


def select(rows: pd.DataFrame, dimensions: list[str], key: str, start, end) -> pd.DataFrame:
    """The rows an SDMX key selects: one part per dimension but the time, each empty (any),
    one code or several joined by +; `all` selects every row."""
    keep = pd.Series(True, index=rows.index)
    if key and key != "all":
        parts = key.split(".")
        keyed = [d for d in dimensions if d != "TIME_PERIOD"]
        if len(parts) != len(keyed):
            raise HTTPException(
                400, f"the key has {len(parts)} parts; this dataflow has {len(keyed)} dimensions"
            )
        for dimension, part in zip(keyed, parts, strict=True):
            if part:
                keep &= rows[dimension].isin(part.split("+"))
    keep &= _period_in(rows["TIME_PERIOD"], start, end)
    return rows[keep]


def data_message(flow, rows: pd.DataFrame) -> bytes:
    """SDMX-ML 2.1 structure-specific data, written by sdmx1."""
    dsd = flow.structure
    dimensions = [d.id for d in dsd.dimensions.components]
    attributes = [a.id for a in dsd.attributes.components]
    measure = dsd.measures.get("OBS_VALUE")
    observations = []
    for row in rows.to_dict(orient="records"):
        value = float(row["OBS_VALUE"]) if row.get("OBS_VALUE") else math.nan
        observations.append(
            v21.Observation(
                dimension=dsd.make_key(v21.Key, {d: row[d] for d in dimensions}),
                value=value,
                value_for=measure,
                attached_attribute={
                    a: v21.AttributeValue(value=row[a], value_for=dsd.attributes.get(a))
                    for a in attributes
                    if row.get(a)
                },
            )
        )
    dataset = v21.StructureSpecificDataSet(structured_by=dsd, described_by=flow, obs=observations)
    message = sdmx.message.DataMessage(
        data=[dataset], dataflow=flow, observation_dimension=dsd.dimensions.get("TIME_PERIOD")
    )
    return sdmx.to_xml(message)


def create_app(snapshots: Path, site: Path | None = None) -> Starlette:
    published = Published(snapshots)

    def edition_of(request: Request, country: str) -> Path:
        return published.edition(country, request.query_params.get("edition"))

    async def structure(request: Request) -> Response:
        resource = request.path_params["resource"]
        found = RESOURCE.fullmatch(request.path_params["id"])
        if resource not in STRUCTURES or not found:
            raise _not_found("name a dataflow or structure of one profile, e.g. DF_EMP_MAR")
        folder = edition_of(request, found[1])
        path = published.file(folder, "exports/sdmx/structure.xml")
        return Response(path.read_bytes(), media_type=SDMX_STRUCTURE)

    async def data(request: Request) -> Response:
        found = FLOW.fullmatch(request.path_params["flow"].split(",")[-1])
        if not found:
            raise _not_found(f"no dataflow {request.path_params['flow']!r}")
        kind, country = found[1], found[2]
        folder = edition_of(request, country)
        xml = published.file(folder, "exports/sdmx/structure.xml")
        csv = published.file(folder, f"exports/sdmx/2.0/{STEMS[kind]}.csv")
        flow = _structure(*_stamped(xml)).dataflow[found[0]]
        rows = _rows(*_stamped(csv))
        dimensions = [d.id for d in flow.structure.dimensions.components]
        chosen = select(
            rows,
            dimensions,
            request.path_params.get("key", "all"),
            request.query_params.get("startPeriod"),
            request.query_params.get("endPeriod"),
        )
        if chosen.empty:
            raise _not_found("no observation matches this query")
        if _wants_csv(request):
            return Response(chosen.to_csv(index=False), media_type=SDMX_CSV)
        return Response(data_message(flow, chosen), media_type=SDMX_XML)

    async def baselines(request: Request) -> Response:
        country = request.path_params["country"]
        folder = edition_of(request, country)
        frame = pd.read_parquet(published.file(folder, "baselines.parquet"))
        project = request.query_params.get("project")
        if project:
            frame = frame[frame["project"] == project]
            if frame.empty:
                raise _not_found(f"no baseline of project {project!r} in this edition")
        asked = request.query_params.get("format", "").lower() or (
            "csv"
            if "csv" in request.headers.get("accept", "")
            else "parquet"
            if "parquet" in request.headers.get("accept", "")
            else "json"
        )
        if asked == "parquet":
            buffer = io.BytesIO()
            frame.to_parquet(buffer, index=False)
            return Response(buffer.getvalue(), media_type="application/vnd.apache.parquet")
        if asked == "json":  # lists stay lists, a missing value is null
            body = frame.to_json(orient="records", date_format="iso", force_ascii=False)
            return Response(body, media_type="application/json")
        if asked != "csv":
            raise HTTPException(406, "format: json, csv or parquet")
        flat = frame.copy()
        for column in flat.columns:
            if flat[column].map(lambda v: isinstance(v, (list, tuple, np.ndarray))).any():
                flat[column] = flat[column].map(
                    lambda v: (
                        "; ".join(map(str, v)) if isinstance(v, (list, tuple, np.ndarray)) else v
                    )
                )
        return Response(flat.to_csv(index=False), media_type="text/csv; charset=utf-8")

    async def editions(request: Request) -> Response:
        listed = with_status(published.root, list_snapshots(published.root))
        keep = ("country", "version", "created_at", "rows", "status")
        return JSONResponse([{k: s.get(k) for k in keep} for s in listed])

    routes = [
        Route("/sdmx/data/{flow}/{key}", data),
        Route("/sdmx/data/{flow}", data),
        Route("/sdmx/{resource}/{agency}/{id}/{version}", structure),
        Route("/sdmx/{resource}/{agency}/{id}", structure),
        Route("/api/baselines/{country}", baselines),
        Route("/api/editions", editions),
    ]
    if site is not None and Path(site).is_dir():
        routes.append(Mount("/", StaticFiles(directory=site, html=True)))
    return Starlette(routes=routes)
