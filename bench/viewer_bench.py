"""Viewer benchmark: PIN-verified card views per second at 200 concurrent connections, p99
latency, and the QR render time first and cached.

    .venv/bin/python bench/viewer_bench.py [--cards 200] [--connections 200] [--seconds 10]

Cards are issued by the signer's real code into a throwaway database; the viewer runs as its
own process (`python -m services.viewer`, as deployed) and an aiohttp client keeps
`--connections` requests in flight, each a PIN check against Postgres and a rendered answer:
the record page (`POST /c/{token}`, what a browser does) and the JSON API. A script, not a
test: it prints figures for the issue notes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

import aiohttp

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.builders import TEST_PEPPER
from tests.support.cards import issue_card, key_ring, record_matched, signer_settings
from tests.support.servers import start_servers, throwaway_database
from tests.support.stack import free_port
from vaxrec.db import create_pool
from vaxrec.logging import configure_logging
from vaxrec.shc import render_qr_png, render_qr_svg

ROOT = Path(__file__).resolve().parents[1]


CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pid: int) -> float:
    """User + system CPU of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


async def issue_cards(database_url: str, count: int, keys: Path) -> list[str]:
    key_ring(keys)
    settings = signer_settings(keys)
    pool = await create_pool(database_url, size=4)
    try:
        return [await issue_card(pool, settings, record_matched()) for _ in range(count)]
    finally:
        await pool.close()


def start_viewer(database_url: str, port: int, pool_size: int, logs: Path) -> subprocess.Popen:
    env = {
        **os.environ,
        "VAXREC_ENVIRONMENT": "test",
        "VAXREC_DATABASE_URL": database_url,
        "VAXREC_PEPPER": TEST_PEPPER.decode(),
        "VAXREC_VIEWER_PORT": str(port),
        "VAXREC_DB_POOL_SIZE": str(pool_size),
        "VAXREC_LOG_LEVEL": "warning",
        "VAXREC_LOG_FORMAT": "json",
    }
    with (logs / "viewer.log").open("ab") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "services.viewer"], cwd=ROOT, env=env, stdout=log, stderr=log
        )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=1) as r:
                if r.status == 200:
                    return process
        except OSError:
            time.sleep(0.1)
    process.kill()
    raise RuntimeError((logs / "viewer.log").read_text()[-2000:])


async def load(
    base: str, tokens: list[str], kind: str, connections: int, seconds: float
) -> tuple[int, list[float], int]:
    """(views, latencies in seconds, failures) with `connections` requests always in flight."""
    latencies: list[float] = []
    failures = 0
    stop = time.perf_counter() + seconds
    connector = aiohttp.TCPConnector(limit=connections)
    async with aiohttp.ClientSession(connector=connector) as http:

        async def worker(offset: int) -> None:
            nonlocal failures
            i = offset
            while time.perf_counter() < stop:
                token = tokens[i % len(tokens)]
                i += connections
                started = time.perf_counter()
                if kind == "page":
                    request = http.post(f"{base}/c/{token}", data={"pin": "4829"})
                else:
                    request = http.post(f"{base}/api/v1/cards/{token}", json={"pin": "4829"})
                async with request as response:
                    body = await response.read()
                    ok = response.status == 200 and (b"<svg" in body or b"shc:/" in body)
                latencies.append(time.perf_counter() - started)
                failures += not ok

        await asyncio.gather(*(worker(n) for n in range(connections)))
    return len(latencies), latencies, failures


async def warm(base: str, tokens: list[str]) -> None:
    async with aiohttp.ClientSession() as http:
        for token in tokens:
            async with http.post(f"{base}/c/{token}", data={"pin": "4829"}) as response:
                assert response.status == 200, response.status


def qr_render_times(jws: str) -> dict[str, float]:
    times = {}
    for name, render in (("svg", render_qr_svg), ("png", render_qr_png)):
        started = time.perf_counter()
        render(jws)
        times[f"{name} first"] = time.perf_counter() - started
        started = time.perf_counter()
        for _ in range(1000):
            render(jws)
        times[f"{name} cached"] = (time.perf_counter() - started) / 1000
    return times


async def first_jws(database_url: str) -> str:
    pool = await create_pool(database_url, size=1)
    try:
        jws: str = await pool.fetchval("SELECT jws FROM cards.issued_cards LIMIT 1")
        return jws
    finally:
        await pool.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cards", type=int, default=200)
    parser.add_argument("--connections", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=10)
    parser.add_argument("--pool", type=int, default=20, help="viewer's Postgres connections")
    args = parser.parse_args()
    configure_logging("bench", level="warning", fmt="console")

    with start_servers() as (database, _), throwaway_database(database) as url:
        work = Path(tempfile.mkdtemp(prefix="viewer-bench-"))
        tokens = asyncio.run(issue_cards(url, args.cards, work / "keys"))
        port = free_port()
        viewer = start_viewer(url, port, args.pool, work)
        try:
            base = f"http://127.0.0.1:{port}"
            print(
                f"viewer: 1 process, {args.pool} Postgres connections; {len(tokens)} cards; "
                f"{args.connections} concurrent connections, {args.seconds:.0f} s each; "
                f"{os.cpu_count()} CPUs shared by client, viewer and Postgres"
            )
            # Warm-up: every card's page once, so the timed runs see cached QR codes (the first
            # render of each is reported separately below).
            asyncio.run(warm(base, tokens))
            for kind, label in (("page", "record page POST /c/{token}"), ("api", "API POST")):
                cpu_before = cpu_seconds(viewer.pid)
                views, latencies, failures = asyncio.run(
                    load(base, tokens, kind, args.connections, args.seconds)
                )
                cpu = cpu_seconds(viewer.pid) - cpu_before
                cuts = statistics.quantiles(latencies, n=100)
                # Views per CPU-second of the viewer: what one core would serve on its own,
                # without the client and Postgres taking their share of this machine.
                print(
                    f"  {label:30} {views / args.seconds:7.0f} views/s  "
                    f"p50 {cuts[49] * 1000:6.1f} ms  p99 {cuts[98] * 1000:6.1f} ms  "
                    f"failures {failures}  viewer CPU {cpu / args.seconds:4.0%} "
                    f"({views / cpu:5.0f} views per CPU-second)"
                )
        finally:
            viewer.terminate()
            viewer.wait(10)
        jws = asyncio.run(first_jws(url))
        for name, seconds in qr_render_times(jws).items():
            print(f"  QR {name:11} {seconds * 1000:8.3f} ms")


if __name__ == "__main__":
    main()
