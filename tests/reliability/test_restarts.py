"""RabbitMQ and Postgres restarted under the running services.

Each service must notice (readiness goes red while the dependency is away), reconnect by
itself (no service is restarted), and finish every request it accepted: one card or one
not-found message each, nothing parked. Needs the local broker and cluster that .ci/run
starts; where the tests were pointed at other servers they are skipped.
"""

from __future__ import annotations

import asyncio
import collections
import shutil
import subprocess
import time
import urllib.request
from collections.abc import Callable
from pathlib import Path
from urllib.parse import urlsplit

import aiohttp
import asyncpg
import pytest

from tests.support.pipeline import (
    body_for,
    ended_wrongly,
    load_registry,
    nobody_body,
    outcomes,
    queue_depths,
    sent_count,
    submit,
    wait_until,
)
from tests.support.servers import BrokerServer, DatabaseServer
from tests.support.stack import SERVICES, Stack
from vaxrec.bus import Topology
from vaxrec.registry import RegistryRecord

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(240)]

BATCH = 60


def _local(url: str) -> bool:
    return urlsplit(url).hostname in ("127.0.0.1", "localhost", "::1")


@pytest.fixture(scope="module")
def residents(module_database_url: str) -> list[RegistryRecord]:
    return asyncio.run(load_registry(module_database_url, 4 * BATCH, seed=23))


def ready(stack: Stack, service: str) -> bool:
    try:
        with urllib.request.urlopen(f"{stack.url(service)}/readyz", timeout=3) as r:
            return r.status == 200
    except OSError:  # 503 (urllib's HTTPError is an OSError) or no answer
        return False


async def wait_readiness(
    stack: Stack, services: tuple[str, ...], want: bool, within_s: float
) -> None:
    async def all_as_wanted() -> bool:
        states = await asyncio.gather(*(asyncio.to_thread(ready, stack, s) for s in services))
        return all(state == want for state in states)

    await wait_until(
        all_as_wanted, within_s=within_s, what=f"readiness {'green' if want else 'red'}"
    )


async def run_through_outage(
    stack: Stack,
    db: asyncpg.Pool,
    residents: list[RegistryRecord],
    amqp_url: str,
    topology: Topology,
    *,
    tag: str,
    stop: Callable[[], None],
    start: Callable[[], None],
    red: tuple[str, ...],
) -> None:
    first = [body_for(r) for r in residents[:BATCH]] + [nobody_body(i, tag) for i in range(5)]
    second = [body_for(r) for r in residents[BATCH : 2 * BATCH]]
    async with aiohttp.ClientSession() as http:
        accepted = await submit(http, stack.url("intake"), first)
        await asyncio.to_thread(stop)  # while the first batch is in flight
        try:
            await wait_readiness(stack, red, want=False, within_s=30)
        finally:
            await asyncio.to_thread(start)
        await wait_readiness(stack, SERVICES, want=True, within_s=90)
        accepted += await submit(http, stack.url("intake"), second)

    async def all_sent() -> bool:
        return await sent_count(db, accepted) == len(accepted)

    try:
        await wait_until(all_sent, within_s=120, what="a sent notification for every request")
    except AssertionError:
        results = await outcomes(db, accepted)
        stuck = collections.Counter(
            (o.cards, o.deliveries, o.sent) for o in results.values() if o.sent != 1
        )
        depths = {q: n for q, n in (await queue_depths(amqp_url, topology)).items() if n}
        logs = {s: _problems(stack.log_text(s)) for s in SERVICES}
        raise AssertionError(
            f"unfinished (cards, deliveries, sent): {stuck}; {depths}; {logs}"
        ) from None
    results = await outcomes(db, accepted)
    wrong = ended_wrongly(results)
    assert not wrong, list(wrong.items())[:5]
    depths = await queue_depths(amqp_url, topology)
    assert not {q: n for q, n in depths.items() if q.endswith(".parking") and n}


def _problems(log: str) -> list[str]:
    return [line[:300] for line in log.splitlines() if '"level": "info"' not in line][-8:]


def _postgres_cluster() -> tuple[str, str] | None:
    clusters = Path("/etc/postgresql")
    if shutil.which("pg_ctlcluster") is None or not clusters.is_dir():
        return None
    versions = sorted(p.name for p in clusters.iterdir())
    return (versions[-1], "main") if versions else None


async def test_services_ride_out_a_rabbitmq_restart(
    servers: tuple[DatabaseServer, BrokerServer],
    stack: Stack,
    stack_db: asyncpg.Pool,
    residents: list[RegistryRecord],
    amqp_url: str,
    topology: Topology,
) -> None:
    if not _local(amqp_url) or shutil.which("rabbitmqctl") is None:
        pytest.skip("the broker is not this machine's RabbitMQ: it cannot be restarted here")

    def rabbitmqctl(*args: str) -> None:
        subprocess.run(["rabbitmqctl", *args], check=True, capture_output=True, timeout=120)

    def start() -> None:
        rabbitmqctl("start_app")
        rabbitmqctl("await_startup")

    started = time.monotonic()
    await run_through_outage(
        stack,
        stack_db,
        residents[: 2 * BATCH],  # each test its own residents: a second message would be
        amqp_url,  # held back by the per-contact rate limit
        topology,
        tag="rmq",
        stop=lambda: rabbitmqctl("stop_app"),
        start=start,
        red=SERVICES[:4],  # the viewer does not use the broker
    )
    print(f"\nRabbitMQ restart: every request finished {time.monotonic() - started:.1f} s after")


async def test_services_ride_out_a_postgres_restart(
    servers: tuple[DatabaseServer, BrokerServer],
    stack: Stack,
    stack_db: asyncpg.Pool,
    residents: list[RegistryRecord],
    amqp_url: str,
    topology: Topology,
    module_database_url: str,
) -> None:
    cluster = _postgres_cluster()
    if not _local(module_database_url) or cluster is None:
        pytest.skip("the database is not this machine's cluster: it cannot be restarted here")

    def pg(action: str) -> None:
        subprocess.run(
            ["pg_ctlcluster", "--skip-systemctl-redirect", *cluster, action, "--mode", "fast"]
            if action == "stop"
            else ["pg_ctlcluster", "--skip-systemctl-redirect", *cluster, action],
            check=True,
            capture_output=True,
            timeout=120,
        )

    started = time.monotonic()
    await run_through_outage(
        stack,
        stack_db,
        residents[2 * BATCH :],
        amqp_url,
        topology,
        tag="pg",
        stop=lambda: pg("stop"),
        start=lambda: pg("start"),
        red=("matcher", "signer", "notifier", "viewer"),  # intake needs no database
    )
    print(f"\nPostgres restart: every request finished {time.monotonic() - started:.1f} s after")
