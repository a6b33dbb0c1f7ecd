"""SIGKILL the notifier process around the provider call and the ack, restart it, count repeats.

Every event must end `sent` with at least one message the (fake) provider accepted, and the
only repeats allowed are kills between the provider's acceptance and the commit.
"""

from __future__ import annotations

import asyncio
import collections
import json
import random
import secrets
import time
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import asyncpg
import pytest

from contracts import CardIssuedV1, Contact, Envelope
from tests.notifier.conftest import card_issued_event
from tests.notifier.crashing import POINTS, read_kills
from tests.notifier.fakes import FakeTwilio
from tests.notifier.process import NotifierProcess, notifier_env
from tests.support.broker import delete_topology
from vaxrec.bus import Bus, Topology, connect_bus

#: Longer than the test default so a redelivery that meets a live lease has room to wait.
RETRY_DELAYS_MS = (250, 500, 1000, 2000, 4000)


@dataclass
class Rig:
    """A fake Twilio, a bus to publish on, and the settings for a notifier process."""

    fake: FakeTwilio
    bus: Bus
    db: asyncpg.Pool
    env: dict[str, str]
    workdir: Path

    def process(self, module: str = "tests.notifier.crashing", **extra: str) -> NotifierProcess:
        return NotifierProcess({**self.env, **extra}, self.workdir / "notifier.log", module)

    async def publish(self, count: int) -> list[Envelope[CardIssuedV1]]:
        events = [
            card_issued_event(Contact(channel="sms", address=f"+1213555{i:04d}"))
            for i in range(count)
        ]
        for event in events:
            await self.bus.publisher.publish(event)
        return events

    async def finished(self, events: list[Envelope[CardIssuedV1]]) -> bool:
        done = await self.db.fetchval(
            "SELECT count(*) FROM notify.deliveries WHERE event_id = ANY($1::uuid[]) "
            "AND state = 'sent'",
            [e.message_id for e in events],
        )
        return bool(done == len(events))

    def accepted_per_event(self, events: list[Envelope[CardIssuedV1]]) -> dict[uuid.UUID, int]:
        by_token = {e.data.link_token: e.message_id for e in events}
        counts: collections.Counter[uuid.UUID] = collections.Counter()
        for request in self.fake.accepted:
            token = request.fields["Body"].split("/c/")[1][:43]
            counts[by_token[token]] += 1
        return {e.message_id: counts[e.message_id] for e in events}


@pytest.fixture
async def rig(
    database_url: str, amqp_url: str, db: asyncpg.Pool, tmp_path: Path
) -> AsyncIterator[Rig]:
    namespace = f"vaxrec-crash-{secrets.token_hex(4)}"
    topology = Topology(namespace, RETRY_DELAYS_MS)
    async with FakeTwilio() as fake:
        bus = await connect_bus(amqp_url, topology, prefetch=8)
        try:
            env = notifier_env(
                database_url=database_url,
                amqp_url=amqp_url,
                namespace=namespace,
                retry_delays_ms=RETRY_DELAYS_MS,
                extra={
                    **fake.env(),
                    "CRASH_LOG": str(tmp_path / "kills.txt"),
                    "VAXREC_CONTACT_LIMIT": "1000",
                },
            )
            yield Rig(fake, bus, db, env, tmp_path)
        finally:
            await bus.close()
            await delete_topology(amqp_url, topology)


async def supervise(
    rig: Rig, process: NotifierProcess, events: list[Envelope[CardIssuedV1]], *, within_s: float
) -> None:
    """Keep the notifier running (restarting it whenever it dies) until every event is sent."""
    deadline = time.monotonic() + within_s
    await process.start()
    try:
        while not await rig.finished(events):
            if time.monotonic() > deadline:
                raise AssertionError(
                    f"not all sent in {within_s} s: {process.log.read_text()[-3000:]}"
                )
            if not process.running():
                await process.start()
            await asyncio.sleep(0.05)
    finally:
        await process.stop()


def kills_by_event(path: Path) -> dict[str, list[str]]:
    kills: dict[str, list[str]] = collections.defaultdict(list)
    for event_id, point in read_kills(path):
        kills[event_id].append(point)
    return kills


async def test_a_kill_at_each_point_loses_nothing_and_repeats_only_after_acceptance(
    rig: Rig,
) -> None:
    events = await rig.publish(4)
    plan = {str(e.message_id): point for e, point in zip(events, POINTS, strict=False)}
    process = rig.process(
        CRASH_PLAN=json.dumps(plan),
        VAXREC_PREFETCH="1",
        VAXREC_PROVIDER_TIMEOUT_S="0.3",
        VAXREC_SEND_LEASE_S="0.5",
    )
    await supervise(rig, process, events, within_s=40)
    kills = kills_by_event(Path(rig.env["CRASH_LOG"]))
    assert sorted(p for points in kills.values() for p in points) == sorted(POINTS)
    accepted = rig.accepted_per_event(events)
    expected = {
        e.message_id: 2 if plan.get(str(e.message_id)) == "after_send" else 1 for e in events
    }
    assert accepted == expected
    assert process.starts == 1 + len(POINTS)


async def test_random_kills_over_many_events(rig: Rig) -> None:
    events = await rig.publish(200)
    process = rig.process(
        CRASH_PROBABILITY="0.025",
        VAXREC_PREFETCH="1",
        VAXREC_PROVIDER_TIMEOUT_S="0.3",
        VAXREC_SEND_LEASE_S="0.5",
    )
    started = time.monotonic()
    await supervise(rig, process, events, within_s=90)
    elapsed = time.monotonic() - started
    kills = kills_by_event(Path(rig.env["CRASH_LOG"]))
    accepted = rig.accepted_per_event(events)
    # No request ends without its message.
    assert all(count >= 1 for count in accepted.values())
    # Only a kill between the provider's acceptance and the commit repeats a message, and
    # every such kill does (one message in flight at a time makes this exact).
    for event in events:
        after_send = kills.get(str(event.message_id), []).count("after_send")
        assert accepted[event.message_id] == 1 + after_send, kills.get(str(event.message_id))
    by_point = collections.Counter(p for points in kills.values() for p in points)
    repeats = sum(count - 1 for count in accepted.values())
    print(
        f"\n{len(events)} events, {sum(by_point.values())} SIGKILLs "
        f"({', '.join(f'{p} {by_point[p]}' for p in POINTS)}), {process.starts} starts, "
        f"{elapsed:.1f} s: {repeats} repeated message(s) = {repeats / len(events):.1%} of events; "
        f"lost: 0"
    )


async def stop_at_random_moments(
    rig: Rig, events: list[Envelope[CardIssuedV1]], *, graceful: bool
) -> tuple[int, float, list[float]]:
    """Run a notifier under load, stopping it at random moments until every event is sent."""
    rig.fake.delay_s = 0.2
    process = rig.process(
        module="services.notifier",
        VAXREC_PREFETCH="16",
        VAXREC_PROVIDER_TIMEOUT_S="1",
        VAXREC_SEND_LEASE_S="1.5",
    )
    stops, exits = 0, []
    rng = random.Random(5)
    started = time.monotonic()
    try:
        while not await rig.finished(events):
            assert time.monotonic() - started < 90, process.log.read_text()[-3000:]
            await process.start()
            await process.wait_ready()
            await asyncio.sleep(rng.uniform(0.2, 1.0))
            if graceful:
                exits.append(await process.terminate())
            else:
                await process.kill()
            stops += 1
    finally:
        await process.stop()
    return stops, time.monotonic() - started, exits


async def test_kills_at_random_moments_under_load(rig: Rig) -> None:
    """Kills timed from outside, with many messages in flight: the repeat rate a crash costs."""
    events = await rig.publish(120)
    kills, elapsed, _ = await stop_at_random_moments(rig, events, graceful=False)
    accepted = rig.accepted_per_event(events)
    assert all(count >= 1 for count in accepted.values())
    attempts = dict(
        await rig.db.fetch(
            "SELECT event_id, attempts FROM notify.deliveries WHERE event_id = ANY($1::uuid[])",
            [e.message_id for e in events],
        )
    )
    # Every accepted message was preceded by its own committed attempt.
    assert all(accepted[e] <= attempts[e] for e in accepted)
    repeats = sum(count - 1 for count in accepted.values())
    print(
        f"\n{len(events)} events, prefetch 16, provider 200 ms, {kills} SIGKILLs at random "
        f"moments, {elapsed:.1f} s: {repeats} repeated message(s) = "
        f"{repeats / len(events):.1%} of events, {repeats / max(kills, 1):.2f} per kill; lost: 0"
    )


async def test_sigterm_under_load_finishes_what_is_in_flight_and_repeats_nothing(
    rig: Rig,
) -> None:
    events = await rig.publish(120)
    stops, elapsed, exits = await stop_at_random_moments(rig, events, graceful=True)
    accepted = rig.accepted_per_event(events)
    assert set(accepted.values()) == {1}
    # In-flight calls finish within the provider timeout; waiting deliveries do not hold it up.
    assert max(exits) < 1 + 2 + 1
    print(
        f"\n{len(events)} events, prefetch 16, provider 200 ms, {stops} SIGTERMs at random "
        f"moments, {elapsed:.1f} s: 0 repeated, 0 lost; exit took at most {max(exits):.2f} s"
    )
