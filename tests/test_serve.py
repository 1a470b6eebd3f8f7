"""`emp serve` tried live on 127.0.0.1 as a researcher would use it: sdmx1's Client, with the
server added as a source, fetches the structures and data and gets the snapshot's values; CSV
by content negotiation; the baselines by edition in JSON, CSV and Parquet; nothing outside the
published folders can be read; and 2,000 requests from 50 concurrent clients get 0 errors."""

from __future__ import annotations

import asyncio
import io
import os
import socket
import threading
import time
from pathlib import Path

import httpx
import pandas as pd
import pytest
import sdmx
import uvicorn

from publish.serve import create_app
from publish.snapshot_index import list_snapshots


@pytest.fixture(scope="module")
def base(built) -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    site = built.snapshots.parent / "site"
    config = uvicorn.Config(
        create_app(built.snapshots, site), host="127.0.0.1", port=port, log_level="warning"
    )
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    for _ in range(100):
        if server.started:
            break
        time.sleep(0.05)
    yield f"http://127.0.0.1:{port}"
    server.should_exit = True
    thread.join(timeout=10)


def _edition(built, country: str) -> Path:
    return Path(list_snapshots(built.snapshots, country)[-1]["path"])


def test_sdmx1_client_fetches_structures_and_data_with_the_snapshot_values(base, built):
    sdmx.add_source(
        {
            "id": "EMP",
            "url": f"{base}/sdmx",
            "name": "Extended Migration Profiles",
            "supports": {"structure-specific data": True},
        },
        override=True,
    )
    client = sdmx.Client("EMP")
    structures = client.dataflow("DF_EMP_MAR")
    flow = structures.dataflow["DF_EMP_MAR"]
    assert flow.name.localizations["fr"]
    message = client.data(
        "DF_EMP_MAR",
        key={"INDICATOR": "IMM_STOCK", "SEX": "_T", "COUNTERPART_AREA": "_T"},
        params={"startPeriod": "1990", "endPeriod": "2019"},
        dsd=flow.structure,
    )
    got = {
        obs.key.values["TIME_PERIOD"].value: float(obs.value)
        for ds in message.data
        for obs in ds.obs
        if obs.key.values["SERIES"].value == "IMM_STOCK"
    }
    assert got["2019"] == 98574 and got["1990"] == 54895  # UN DESA, as the data README works
    snapshot = pd.read_parquet(_edition(built, "MAR") / "indicators.parquet")
    national = snapshot[
        (snapshot.indicator_id == "IMM_STOCK")
        & (snapshot.series == "IMM_STOCK")
        & (snapshot.ref_area == "MAR")
        & (snapshot.counterpart_area == "_T")
        & (snapshot.sex == "_T")
    ]
    assert got == dict(zip(national.time_period, national.obs_value, strict=True))


def test_csv_by_content_negotiation_and_period_bounds(base):
    response = httpx.get(
        f"{base}/sdmx/data/DF_EMP_MAR/IMM_STOCK.........",
        params={"startPeriod": "2010"},
        headers={"Accept": "application/vnd.sdmx.data+csv;version=2.0.0"},
    )
    assert response.status_code == 200 and "csv" in response.headers["content-type"]
    rows = pd.read_csv(io.StringIO(response.text), dtype=str)
    assert set(rows["INDICATOR"]) == {"IMM_STOCK"}
    assert rows["TIME_PERIOD"].min() >= "2010"
    assert rows["STRUCTURE_ID"].iloc[0] == "EMP:DF_EMP_MAR(1.0)"
    bad = httpx.get(f"{base}/sdmx/data/DF_EMP_MAR/IMM_STOCK.MAR")
    assert bad.status_code == 400 and "dimensions" in bad.text


def test_every_url_can_pin_an_edition(base, built):
    editions = list_snapshots(built.snapshots, "MAR")
    version = editions[-1]["version"]
    pinned = httpx.get(f"{base}/api/baselines/MAR", params={"edition": version})
    assert pinned.status_code == 200 and pinned.json()
    assert {r["snapshot_version"] for r in pinned.json()} == {version}
    for params in ({"edition": "20000101T000000Z"}, {"edition": "../../emp"}):
        assert httpx.get(f"{base}/api/baselines/MAR", params=params).status_code == 404
        assert httpx.get(f"{base}/sdmx/data/DF_EMP_MAR", params=params).status_code == 404
    listed = httpx.get(f"{base}/api/editions").json()
    assert {"country": "MAR", "version": version} in [
        {"country": e["country"], "version": e["version"]} for e in listed
    ]


def test_baselines_in_json_csv_and_parquet_equal_the_snapshot(base, built):
    expected = pd.read_parquet(_edition(built, "MAR") / "baselines.parquet")
    project = expected["project"].iloc[0]
    expected = expected[expected["project"] == project].reset_index(drop=True)
    url = f"{base}/api/baselines/MAR"
    parquet = httpx.get(url, params={"project": project, "format": "parquet"})
    from_parquet = pd.read_parquet(io.BytesIO(parquet.content))
    pd.testing.assert_series_equal(from_parquet["obs_value"], expected["obs_value"])
    as_csv = pd.read_csv(
        io.StringIO(httpx.get(url, params={"project": project, "format": "csv"}).text)
    )
    assert as_csv["obs_value"].tolist() == pytest.approx(
        expected["obs_value"].tolist(), nan_ok=True
    )
    as_json = httpx.get(url, params={"project": project}).json()
    assert [r["ref_area"] for r in as_json] == expected["ref_area"].tolist()


def test_nothing_outside_the_published_folders_can_be_read(base, built):
    site = built.snapshots.parent / "site"
    link = site / "en" / "leak.html"
    os.symlink(built.snapshots.parent / "emp.duckdb", link)
    try:
        for path in (
            "/../emp.duckdb",
            "/%2e%2e/emp.duckdb",
            "/en/../../emp.duckdb",
            "/en/leak.html",
            "/sdmx/data/DF_EMP_XXX",
            "/sdmx/dataflow/EMP/..%2F..%2Femp/latest",
            "/api/baselines/..%2F",
        ):
            response = httpx.get(base + path)
            assert response.status_code == 404, path
    finally:
        link.unlink()
    assert httpx.get(f"{base}/fr/index.html").status_code == 200


def test_two_thousand_requests_from_fifty_clients_get_no_error(base):
    paths = [
        "/en/index.html",
        "/fr/indicators/IMM_STOCK.html",
        "/sdmx/data/DF_SDG_MDA",
        "/sdmx/data/DF_EMP_MAR/IMM_STOCK.........?startPeriod=2000",
        "/api/baselines/PHL?format=csv",
        "/sdmx/dataflow/EMP/DF_SDG_GEO/latest",
    ]

    async def run() -> list[int]:
        limit = asyncio.Semaphore(50)
        async with httpx.AsyncClient(base_url=base, timeout=60) as client:

            async def one(i: int) -> int:
                async with limit:
                    return (await client.get(paths[i % len(paths)])).status_code

            return await asyncio.gather(*(one(i) for i in range(2000)))

    statuses = asyncio.run(run())
    assert statuses.count(200) == 2000
