"""1,000 requests in flight; each worker service SIGKILLed in turn at a random moment and restarted.

Every request must end with exactly one card and one sent notification (or one not-found
message), nothing parked, nobody messaged twice. The kill moments come from a seed printed with
the figures (set VAXREC_CHAOS_SEED to replay one).
"""

from __future__ import annotations

import asyncio
import os
import random
import secrets
import signal
import time
import uuid

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
    repeats_by_address,
    sent_count,
    submit,
    wait_until,
)
from tests.support.stack import Stack
from vaxrec.bus import Topology
from vaxrec.registry import RegistryRecord

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(220)]

REQUESTS = 1000
NOT_FOUND = 100
WORKERS = ("matcher", "signer", "notifier")


@pytest.fixture(scope="module")
def residents(module_database_url: str) -> list[RegistryRecord]:
    return asyncio.run(load_registry(module_database_url, 3000, seed=11))


async def test_sigkill_each_worker_in_turn_loses_nothing_and_repeats_nothing(
    stack: Stack,
    stack_db: asyncpg.Pool,
    residents: list[RegistryRecord],
    topology: Topology,
    amqp_url: str,
) -> None:
    seed = int(os.environ.get("VAXREC_CHAOS_SEED") or secrets.randbelow(1_000_000))
    rng = random.Random(seed)
    assert len(residents) >= REQUESTS - NOT_FOUND
    chosen = rng.sample(residents, REQUESTS - NOT_FOUND)
    bodies = [body_for(r) for r in chosen]
    bodies += [nobody_body(i, f"chaos{seed}") for i in range(NOT_FOUND)]
    rng.shuffle(bodies)

    started = time.monotonic()
    accepted: list[uuid.UUID] = []
    in_flight_at_kill: dict[str, int] = {}
    async with aiohttp.ClientSession() as http:
        # One burst of requests per worker, and the worker killed while its burst is in flight:
        # on a quiet machine the pipeline drains 1,000 requests in a few seconds, so a kill at
        # a random moment of one long run could find nothing left to interrupt.
        bursts = [bodies[k :: len(WORKERS)] for k in range(len(WORKERS))]
        for service, burst in zip(WORKERS, bursts, strict=True):
            submitting = asyncio.create_task(
                submit(http, stack.url("intake"), burst, accepted=accepted, concurrency=32)
            )
            try:
                await asyncio.sleep(rng.uniform(0.2, 0.8))
                in_flight_at_kill[service] = len(accepted) - await sent_count(
                    stack_db, list(accepted)
                )
                stack.stop(service, signal.SIGKILL)
                stack.start(service)
                await asyncio.to_thread(stack.wait_ready, service, 90)
                await submitting  # appends to `accepted`
            finally:
                if not submitting.done():
                    submitting.cancel()
    request_ids = list(accepted)
    assert len(request_ids) == REQUESTS
    assert len(set(request_ids)) == REQUESTS

    async def all_sent() -> bool:
        return await sent_count(stack_db, request_ids) == REQUESTS

    await wait_until(all_sent, within_s=150, what="a sent notification for every request")
    elapsed = time.monotonic() - started

    async def drained() -> bool:
        # Redelivered copies of finished work (a kill after the publish, before the ack)
        # may still pass through; each must be acked as a duplicate, not parked.
        return not any((await queue_depths(amqp_url, topology)).values())

    await wait_until(drained, within_s=60, what="every queue empty")
    depths = await queue_depths(amqp_url, topology)
    parked = {q: n for q, n in depths.items() if q.endswith(".parking") and n}

    results = await outcomes(stack_db, request_ids)
    cards = sum(o.cards for o in results.values())
    not_found = sum(1 for o in results.values() if o.kinds == ("unmatched",))
    wrong = ended_wrongly(results)
    rows = await stack_db.fetch(
        "SELECT o.to_address FROM notify.dev_outbox o JOIN notify.deliveries d USING (event_id) "
        "WHERE d.request_id = ANY($1::uuid[])",
        request_ids,
    )
    repeats = repeats_by_address(rows)
    print(
        f"\nchaos seed {seed}: {REQUESTS} requests, SIGKILL "
        + ", ".join(f"{s} ({n} in flight)" for s, n in in_flight_at_kill.items())
        + f"; all notified in {elapsed:.1f} s; {cards} cards, {not_found} not-found messages, "
        f"{len(rows)} outbox messages, {repeats} repeated, {sum(parked.values())} parked"
    )
    assert all(n > 0 for n in in_flight_at_kill.values()), in_flight_at_kill
    assert not wrong, list(wrong.items())[:5]
    assert not parked
    assert repeats == 0
    assert len(rows) == REQUESTS
    # Every not-found request was one; the residents asked with their exact data are found.
    assert not_found >= NOT_FOUND
    assert cards >= 0.9 * (REQUESTS - NOT_FOUND)
    for service in WORKERS:
        assert "message.parked" not in stack.log_text(service)
