"""End-to-end load: requests over HTTP at a fixed rate, to the notification stored.

    .venv/bin/python bench/e2e_bench.py [--rate 1000] [--seconds 60] [--residents 100000]
                                        [--found 0.8]

Starts the five services as processes (as `vaxrec run` does, development outbox as the
provider) on a throwaway database and broker namespace, loads a synthetic registry, then
sends requests open-loop at `--rate` per second for `--seconds`: a `--found` share for real
residents, the rest for nobody. Each accepted request is followed to the row the notifier
stores for it (the development outbox), so the latency is from the HTTP request to the
notification stored. Prints the sustained rate, latency percentiles, CPU seconds per request
for every service and the load generator, and lost or duplicated requests.
A script, not a test: it prints figures for the issue notes.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import asyncpg

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))  # a script, not a package: the shared test harness

from services.signer._keys import add_key  # noqa: E402
from tests.support.broker import delete_namespace  # noqa: E402
from tests.support.servers import start_servers, throwaway_database  # noqa: E402
from tests.support.stack import SERVICES, Stack, running_stack  # noqa: E402

PIN = "4826"
CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


@dataclass
class Sent:
    at: float  # wall clock (time.time), comparable with the database's now()
    found: bool
    request_id: uuid.UUID | None = None
    status: int = 0


def cpu_seconds(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / CLOCK_TICKS


def server_cpu_seconds() -> dict[str, float]:
    """CPU of the Postgres and RabbitMQ processes on this machine (when they run here)."""
    totals = {"postgres": 0.0, "rabbitmq": 0.0}
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            name = (proc / "comm").read_text().strip()
            key = "postgres" if name == "postgres" else "rabbitmq" if name == "beam.smp" else None
            if key:
                totals[key] += cpu_seconds(int(proc.name))
        except OSError:
            continue  # gone meanwhile
    return totals


def load_registry(database_url: str, residents: int) -> None:
    started = time.perf_counter()
    command = ["registry", "load-demo", "--residents", str(residents)]
    subprocess.run(
        [sys.executable, "-m", "vaxrec.cli", *command, "--database-url", database_url],
        cwd=ROOT,
        check=True,
        capture_output=True,
    )
    print(f"registry:   {residents} residents loaded in {time.perf_counter() - started:.0f} s")


async def request_bodies(database_url: str, count: int, found_share: float) -> list[dict]:
    """Real residents (exactly as the registry has them) and people nobody recorded."""
    conn = await asyncpg.connect(database_url)
    try:
        # One resident per contact: a household sharing a phone would meet the notifier's
        # per-contact rate limit, and a held-back message is not what this measures.
        rows = await conn.fetch(
            "SELECT DISTINCT ON (c.kind, c.value) p.given_names, p.family_name, p.birth_date,"
            " c.kind, c.value FROM registry.patients p JOIN registry.contacts c USING"
            " (registry_id) ORDER BY c.kind, c.value, p.registry_id LIMIT $1",
            count,
        )
    finally:
        await conn.close()
    rng = random.Random(7)
    bodies = []
    for i in range(count):
        if rng.random() < found_share:
            row = rows[i % len(rows)]
            contact = {"phone" if row["kind"] == "phone" else "email": row["value"]}
            person = {
                "first_name": row["given_names"],
                "last_name": row["family_name"],
                "date_of_birth": row["birth_date"].isoformat(),
            }
        else:
            contact = {"phone": f"+1213{rng.randrange(10**7):07d}"}
            person = {"first_name": "Nobody", "last_name": f"Unknown{i}"}
            person["date_of_birth"] = "1980-01-01"
        bodies.append({**person, **contact, "pin": PIN, "consent": True, "language": "en"})
    return bodies


async def drive(url: str, bodies: list[dict], rate: float, found_share: float) -> list[Sent]:
    """Open loop: request i leaves at start + i/rate whether or not earlier ones finished."""
    sent: list[Sent] = []
    connector = aiohttp.TCPConnector(limit=400)
    async with aiohttp.ClientSession(connector=connector) as session:

        async def one(body: dict, found: bool) -> None:
            record = Sent(at=time.time(), found=found)
            sent.append(record)
            async with session.post(f"{url}/api/v1/record-requests", json=body) as response:
                record.status = response.status
                if response.status == 202:
                    record.request_id = uuid.UUID((await response.json())["request_id"])

        start = time.perf_counter()
        tasks = []
        for i, body in enumerate(bodies):
            delay = start + i / rate - time.perf_counter()
            if delay > 0:
                await asyncio.sleep(delay)
            tasks.append(asyncio.create_task(one(body, body["first_name"] != "Nobody")))
        await asyncio.gather(*tasks, return_exceptions=True)
    return sent


async def notifications(database_url: str, expected: int, stall_s: float) -> list:
    """Wait while the backlog drains (until every request is handled, or nothing moved for
    `stall_s`), then every delivery row."""
    conn = await asyncpg.connect(database_url)
    try:
        last, moved = -1, time.monotonic()
        while True:
            done = await conn.fetchval("SELECT count(*) FROM notify.deliveries")
            if done != last:
                last, moved = done, time.monotonic()
            if done >= expected or time.monotonic() - moved > stall_s:
                break
            await asyncio.sleep(0.5)
        return await conn.fetch(
            "SELECT d.request_id, d.state, extract(epoch FROM o.created_at) AS at"
            " FROM notify.deliveries d LEFT JOIN notify.dev_outbox o USING (event_id)"
        )
    finally:
        await conn.close()


def report(
    stack: Stack,
    sent: list[Sent],
    stored: list,
    cpu0: dict[str, float],
    gen_cpu: float,
    servers: dict[str, float],
) -> None:
    accepted = {s.request_id: s for s in sent if s.request_id}
    refused = len(sent) - len(accepted)
    by_request: dict[uuid.UUID, list[float]] = {}
    states: dict[str, int] = {}
    for row in stored:
        states[row["state"]] = states.get(row["state"], 0) + 1
        if row["at"] is not None:
            by_request.setdefault(row["request_id"], []).append(float(row["at"]))
    handled = {row["request_id"] for row in stored}
    lost = [r for r in accepted if r not in handled]
    duplicated = [r for r, times in by_request.items() if len(times) > 1]
    latencies = sorted(min(by_request[r]) - s.at for r, s in accepted.items() if r in by_request)
    first = min(s.at for s in sent)
    last = max(t for times in by_request.values() for t in times)
    print(f"requests:   {len(sent)} sent, {len(accepted)} accepted (202), {refused} refused")
    print(
        f"sustained:  {len(by_request) / (last - first):.0f} requests/s end to end"
        f" ({len(by_request)} notified in {last - first:.1f} s)"
    )
    if latencies:
        q = statistics.quantiles(latencies, n=100)
        print(
            f"latency:    p50 {q[49] * 1000:.0f} ms  p95 {q[94] * 1000:.0f} ms"
            f"  p99 {q[98] * 1000:.0f} ms  max {latencies[-1] * 1000:.0f} ms"
            " (HTTP request -> notification stored)"
        )
    print(f"lost:       {len(lost)}   duplicated: {len(duplicated)}   deliveries: {states}")
    total = 0.0
    for service in SERVICES:
        used = cpu_seconds(stack.processes[service].pid) - cpu0[service]
        total += used
        print(f"cpu {service:9s} {used:7.1f} s  = {used / len(sent) * 1000:5.2f} ms a request")
    print(f"cpu services  {total:7.1f} s  = {total / len(sent) * 1000:5.2f} ms a request")
    for name, used in servers.items():
        print(f"cpu {name:9s} {used:7.1f} s  = {used / len(sent) * 1000:5.2f} ms a request")
    print(f"cpu load generator {gen_cpu:5.1f} s (same machine)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rate", type=float, default=1000)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--residents", type=int, default=100_000)
    parser.add_argument("--found", type=float, default=0.8)
    args = parser.parse_args()
    count = int(args.rate * args.seconds)
    namespace = f"vaxrec-bench-{uuid.uuid4().hex[:8]}"
    with (
        start_servers() as (db_server, broker),
        throwaway_database(db_server) as database_url,
        tempfile.TemporaryDirectory() as tmp,
    ):
        keys = Path(tmp) / "keys"
        add_key(keys, activate=True)
        load_registry(database_url, args.residents)
        bodies = asyncio.run(request_bodies(database_url, count, args.found))
        try:
            with running_stack(
                database_url=database_url,
                amqp_url=broker.amqp_url,
                namespace=namespace,
                keys=keys,
                logs=Path(tmp),
            ) as stack:
                cpu0 = {s: cpu_seconds(stack.processes[s].pid) for s in SERVICES}
                servers0 = server_cpu_seconds()
                gen0 = time.process_time()
                print(f"driving:    {count} requests at {args.rate:.0f}/s ...")
                sent = asyncio.run(drive(stack.url("intake"), bodies, args.rate, args.found))
                gen_cpu = time.process_time() - gen0
                accepted = sum(1 for s in sent if s.request_id)
                stored = asyncio.run(notifications(database_url, accepted, stall_s=30))
                servers1 = server_cpu_seconds()
                servers = {k: servers1[k] - servers0[k] for k in servers1}
                report(stack, sent, stored, cpu0, gen_cpu, servers)
        finally:
            asyncio.run(delete_namespace(broker.amqp_url, namespace))


if __name__ == "__main__":
    main()
