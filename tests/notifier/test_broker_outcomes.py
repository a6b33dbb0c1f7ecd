"""What the broker does with each provider outcome: ack, retry with back-off, or park."""

from __future__ import annotations

import asyncio
import functools
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import asyncpg
import pytest

from contracts import CardIssuedV1, Contact
from services.notifier._handlers import handle_card_issued
from services.notifier._main import build_deliveries
from tests.notifier.conftest import card_issued_event, settings_for, unique_phone
from tests.notifier.fakes import FakeTwilio
from tests.support.broker import fresh_bus
from vaxrec.bus import ERROR_HEADER, Bus


@pytest.fixture
async def bus(amqp_url: str) -> AsyncIterator[Bus]:
    async with fresh_bus(amqp_url) as bus:
        yield bus


async def _until(condition: Callable[[], Awaitable[bool]], within_s: float = 10.0) -> None:
    deadline = asyncio.get_running_loop().time() + within_s
    while asyncio.get_running_loop().time() < deadline:
        if await condition():
            return
        await asyncio.sleep(0.05)
    raise AssertionError("condition not met in time")


async def _consume(
    bus: Bus, db: asyncpg.Pool, session: aiohttp.ClientSession, fake: FakeTwilio, **overrides: str
) -> None:
    settings = settings_for(fake, **overrides)
    handler = functools.partial(
        handle_card_issued, deliveries=build_deliveries(settings, db, session), settings=settings
    )
    await bus.consume("notifier", CardIssuedV1, handler)


async def _state(db: asyncpg.Pool, event_id: object) -> str | None:
    return await db.fetchval("SELECT state FROM notify.deliveries WHERE event_id = $1", event_id)


async def _parked(bus: Bus) -> list[dict[str, object]]:
    queue = await bus.channel.get_queue(
        bus.topology.parking_queue(bus.topology.queue("notifier", CardIssuedV1)), ensure=False
    )
    headers = []
    while (message := await queue.get(fail=False, no_ack=True)) is not None:
        headers.append(dict(message.headers))
    return headers


async def test_transient_failures_are_retried_by_the_broker_then_sent(
    bus: Bus, db: asyncpg.Pool, fake_twilio: FakeTwilio, session: aiohttp.ClientSession
) -> None:
    await _consume(bus, db, session, fake_twilio)
    fake_twilio.answer("429", "500")
    event = card_issued_event(Contact(channel="sms", address=unique_phone()))
    await bus.publisher.publish(event)

    async def sent() -> bool:
        return await _state(db, event.message_id) == "sent"

    await _until(sent)
    assert [r.status for r in fake_twilio.received] == [429, 500, 201]
    assert await _parked(bus) == []


async def test_retries_run_out_into_the_parking_queue(
    bus: Bus, db: asyncpg.Pool, fake_twilio: FakeTwilio, session: aiohttp.ClientSession
) -> None:
    await _consume(bus, db, session, fake_twilio)
    # The test topology retries twice: three answers of 500 spend the budget.
    fake_twilio.answer("500", "500", "500")
    event = card_issued_event(Contact(channel="sms", address=unique_phone()))
    await bus.publisher.publish(event)
    parked: list[dict[str, object]] = []

    async def was_parked() -> bool:
        parked.extend(await _parked(bus))
        return bool(parked)

    await _until(was_parked)
    assert parked[0][ERROR_HEADER] == "TransientSendError"
    row = await db.fetchrow(
        "SELECT state, attempts, last_error_code FROM notify.deliveries WHERE event_id = $1",
        event.message_id,
    )
    assert dict(row) == {"state": "pending", "attempts": 3, "last_error_code": "twilio-20500"}


async def test_a_refused_recipient_is_acked_not_parked(
    bus: Bus, db: asyncpg.Pool, fake_twilio: FakeTwilio, session: aiohttp.ClientSession
) -> None:
    await _consume(bus, db, session, fake_twilio)
    fake_twilio.answer("21610")
    event = card_issued_event(Contact(channel="sms", address=unique_phone()))
    await bus.publisher.publish(event)

    async def failed() -> bool:
        return await _state(db, event.message_id) == "failed"

    await _until(failed)
    await asyncio.sleep(0.5)  # longer than a retry delay: nothing comes back
    assert len(fake_twilio.received) == 1
    assert await _parked(bus) == []


async def test_a_configuration_error_is_parked_at_once(
    bus: Bus, db: asyncpg.Pool, fake_twilio: FakeTwilio, session: aiohttp.ClientSession
) -> None:
    await _consume(bus, db, session, fake_twilio, twilio_auth_token="rotated-token")
    event = card_issued_event(Contact(channel="sms", address=unique_phone()))
    await bus.publisher.publish(event)
    parked: list[dict[str, object]] = []

    async def was_parked() -> bool:
        parked.extend(await _parked(bus))
        return bool(parked)

    await _until(was_parked)
    assert parked[0][ERROR_HEADER] == "ProviderRefusedError"
    assert len(fake_twilio.received) == 1
    assert await _state(db, event.message_id) == "pending"
