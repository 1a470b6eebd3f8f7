"""Load on `emp serve`: N requests from C concurrent clients over a mix of site pages, SDMX data
(XML and CSV), structures and baselines, against the server on 127.0.0.1, with a plain static
file server over the same site as the baseline measured in the same run. Prints requests per
second, median and 95th-percentile latency and errors for each; the last line is JSON.

    EMP_HOME=var .venv/bin/python benchmarks/serve.py [--requests 2000] [--clients 50]

It reads an existing EMP_HOME (run `make run` first)."""

from __future__ import annotations

import argparse
import asyncio
import functools
import http.server
import json
import socket
import statistics
import threading
import time

import httpx
import uvicorn

from pipelines.cli import site_folder
from publish.serve import create_app
from warehouse.settings import Settings

MIX = [
    "/en/index.html",
    "/fr/indicators/IMM_STOCK.html",
    "/sdmx/data/DF_SDG_MDA",
    "/sdmx/data/DF_EMP_MAR/IMM_STOCK.........?startPeriod=2000",
    "/sdmx/data/DF_EMP_PHL?format=csv",
    "/api/baselines/PHL?format=csv",
    "/sdmx/dataflow/EMP/DF_SDG_GEO/latest",
]
STATIC = ["/en/index.html", "/fr/indicators/IMM_STOCK.html", "/ar/status/reporting.html"]


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args) -> None:  # no line per request
        pass


def _port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


async def _load(base: str, paths: list[str], requests: int, clients: int) -> dict:
    limit = asyncio.Semaphore(clients)
    latencies: list[float] = []
    errors = 0
    async with httpx.AsyncClient(base_url=base, timeout=120) as client:

        async def one(i: int) -> None:
            nonlocal errors
            async with limit:
                started = time.perf_counter()
                try:
                    response = await client.get(paths[i % len(paths)])
                    if response.status_code != 200:
                        errors += 1
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(requests)))
        elapsed = time.perf_counter() - started
    latencies.sort()
    return {
        "requests": requests,
        "clients": clients,
        "seconds": round(elapsed, 2),
        "requests_per_s": round(requests / elapsed, 1),
        "median_ms": round(statistics.median(latencies) * 1000, 1),
        "p95_ms": round(latencies[int(0.95 * (len(latencies) - 1))] * 1000, 1),
        "errors": errors,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--clients", type=int, default=50)
    args = parser.parse_args()
    settings = Settings.from_env()
    site = site_folder(settings.snapshots)

    port = _port()
    server = uvicorn.Server(
        uvicorn.Config(create_app(settings.snapshots, site), port=port, log_level="warning")
    )
    threading.Thread(target=server.run, daemon=True).start()
    handler = functools.partial(_Quiet, directory=str(site))
    static = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=static.serve_forever, daemon=True).start()
    while not server.started:
        time.sleep(0.05)

    emp = asyncio.run(_load(f"http://127.0.0.1:{port}", MIX, args.requests, args.clients))
    emp_static = asyncio.run(_load(f"http://127.0.0.1:{port}", STATIC, args.requests, args.clients))
    baseline = asyncio.run(
        _load(f"http://127.0.0.1:{static.server_address[1]}", STATIC, args.requests, args.clients)
    )
    server.should_exit = True
    static.shutdown()
    for name, figures in (
        ("emp serve, mixed (site, SDMX, baselines)", emp),
        ("emp serve, site pages only", emp_static),
        ("python -m http.server, same pages (baseline)", baseline),
    ):
        print(
            f"{name}: {figures['requests_per_s']} requests/s, median {figures['median_ms']} ms, "
            f"p95 {figures['p95_ms']} ms, {figures['errors']} errors"
        )
    print(
        json.dumps(
            {
                "mixed": emp,
                "site_pages": emp_static,
                "static_baseline": baseline,
                "site_pages_over_baseline": round(
                    emp_static["requests_per_s"] / baseline["requests_per_s"], 2
                ),
            }
        )
    )


if __name__ == "__main__":
    main()
