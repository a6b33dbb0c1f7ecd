"""Two replicas of each worker on the same queues: both share the work, no request is done twice."""

from __future__ import annotations

import asyncio
import collections
import json
import time

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
from tests.support.replicas import start_replica
from tests.support.stack import Stack
from vaxrec.bus import Topology
from vaxrec.registry import RegistryRecord

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(150)]

REQUESTS = 300
NOT_FOUND = 40
#: The log event each worker writes once per request it handles.
HANDLED = {"matcher": "match.outcome", "signer": "card.issued", "notifier": "notification.sent"}


@pytest.fixture(scope="module")
def residents(module_database_url: str) -> list[RegistryRecord]:
    return asyncio.run(load_registry(module_database_url, 1000, seed=31))


@pytest.fixture(scope="module")
def replicated(stack: Stack) -> Stack:
    for service in HANDLED:
        start_replica(stack, service, f"{service}-2")
    for service in HANDLED:
        stack.wait_ready(f"{service}-2", timeout=60)
    return stack


def handled_by(stack: Stack, process: str, event: str) -> collections.Counter[str]:
    """How often `process` logged `event`, per correlation id (request id)."""
    counts: collections.Counter[str] = collections.Counter()
    for line in stack.log_text(process).splitlines():
        if line.startswith("{"):
            entry = json.loads(line)
            if entry.get("event") == event:
                counts[entry["correlation_id"]] += 1
    return counts


async def test_two_replicas_of_each_worker_handle_every_request_once(
    replicated: Stack,
    stack_db: asyncpg.Pool,
    residents: list[RegistryRecord],
    topology: Topology,
    amqp_url: str,
) -> None:
    stack = replicated
    bodies = [body_for(r) for r in residents[: REQUESTS - NOT_FOUND]]
    bodies += [nobody_body(i, "replicas") for i in range(NOT_FOUND)]
    started = time.monotonic()
    async with aiohttp.ClientSession() as http:
        request_ids = await submit(http, stack.url("intake"), bodies, concurrency=32)
    assert len(request_ids) == REQUESTS

    async def all_sent() -> bool:
        return await sent_count(stack_db, request_ids) == REQUESTS

    await wait_until(all_sent, within_s=90, what="a sent notification for every request")
    elapsed = time.monotonic() - started

    async def drained() -> bool:
        return not any((await queue_depths(amqp_url, topology)).values())

    await wait_until(drained, within_s=30, what="every queue empty")

    results = await outcomes(stack_db, request_ids)
    wrong = ended_wrongly(results)
    assert not wrong, list(wrong.items())[:5]
    matched = [str(rid) for rid, o in results.items() if o.cards == 1]
    assert len(matched) >= 0.9 * (REQUESTS - NOT_FOUND)
    # One delivery row per event, and the events are the requests' own.
    per_event = await stack_db.fetchval(
        "SELECT count(*) = count(DISTINCT event_id) FROM notify.deliveries "
        "WHERE request_id = ANY($1::uuid[])",
        request_ids,
    )
    assert per_event

    shares = {}
    for service, event in HANDLED.items():
        first = handled_by(stack, service, event)
        second = handled_by(stack, f"{service}-2", event)
        shares[service] = (sum(first.values()), sum(second.values()))
        # Both replicas took part, and between them each request was handled exactly once.
        assert first, (service, shares[service])
        assert second, (service, shares[service])
        together = first + second
        expected = matched if service == "signer" else [str(rid) for rid in request_ids]
        assert sorted(together) == sorted(expected), service
        assert set(together.values()) == {1}, service
    print(
        f"\nreplicas: {REQUESTS} requests with two of each worker, all notified in "
        f"{elapsed:.1f} s; handled per replica "
        + ", ".join(f"{s} {a}+{b}" for s, (a, b) in shares.items())
        + "; 0 handled twice"
    )
