"""Deliveries against the real Postgres: one message per event, whatever is redelivered."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

import aiohttp
import asyncpg
import pytest

from contracts import Contact
from services.notifier._deliver import (
    AttemptInFlightError,
    Deliveries,
    Outcome,
    ProviderRefusedError,
)
from services.notifier._handlers import handle_card_issued, handle_unmatched
from services.notifier._main import build_deliveries
from services.notifier._messages import render
from services.notifier._metrics import REQUEST_TO_NOTIFICATION_SECONDS
from services.notifier._providers import TransientSendError
from services.notifier._settings import NotifierSettings
from tests.notifier.conftest import (
    BASE_URL,
    card_issued_event,
    settings_for,
    unique_phone,
    unmatched_event,
)
from tests.notifier.fakes import FakeSendGrid, FakeTwilio
from vaxrec.bus import PermanentError


@pytest.fixture
async def twilio(
    db: asyncpg.Pool, fake_twilio: FakeTwilio, session: aiohttp.ClientSession
) -> AsyncIterator[tuple[Deliveries, NotifierSettings]]:
    settings = settings_for(fake_twilio)
    return build_deliveries(settings, db, session), settings


async def _delivery(db: asyncpg.Pool, event_id: uuid.UUID) -> asyncpg.Record:
    row = await db.fetchrow("SELECT * FROM notify.deliveries WHERE event_id = $1", event_id)
    assert row is not None
    return row


async def _outbox(db: asyncpg.Pool, address: str) -> list[asyncpg.Record]:
    return await db.fetch("SELECT * FROM notify.dev_outbox WHERE to_address = $1", address)


async def test_outbox_gets_one_message_however_often_the_event_arrives(
    db: asyncpg.Pool, session: aiohttp.ClientSession
) -> None:
    settings = settings_for()
    deliveries = build_deliveries(settings, db, session)
    address = unique_phone()
    event = card_issued_event(Contact(channel="sms", address=address), language="es-MX")
    histogram = REQUEST_TO_NOTIFICATION_SECONDS.labels("card_issued")
    sum_before, count_before = histogram._sum.get(), sum(b.get() for b in histogram._buckets)
    results = await asyncio.gather(
        *(handle_card_issued(event, deliveries=deliveries, settings=settings) for _ in range(5)),
        return_exceptions=True,
    )
    # Concurrent copies of one event wait for the first attempt, and the broker retries them.
    assert all(r is None or isinstance(r, AttemptInFlightError) for r in results)
    await handle_card_issued(event, deliveries=deliveries, settings=settings)
    [message] = await _outbox(db, address)
    assert f"{BASE_URL}/c/{event.data.link_token}" in message["body"]
    assert "24 horas" in message["body"]
    assert message["language"] == "es"
    delivery = await _delivery(db, event.message_id)
    assert (delivery["state"], delivery["attempts"], delivery["provider"]) == ("sent", 1, "outbox")
    assert delivery["provider_message_id"] == f"outbox-{message['id']}"
    assert delivery["kind"] == "card_issued"
    # The request's age at sending went into the end-to-end histogram, once.
    assert REQUEST_TO_NOTIFICATION_SECONDS.labels("card_issued")._sum.get() > sum_before
    assert sum(b.get() for b in histogram._buckets) == count_before + 1
    # The delivery log never holds the contact, the link or the body.
    assert address not in str(dict(delivery))
    assert event.data.link_token not in str(dict(delivery))


async def test_not_found_email_tells_what_to_do(
    db: asyncpg.Pool, session: aiohttp.ClientSession
) -> None:
    settings = settings_for()
    deliveries = build_deliveries(settings, db, session)
    address = f"nobody-{uuid.uuid4().hex[:8]}@example.org"
    event = unmatched_event(Contact(channel="email", address=address), language="fr-CA")
    await handle_unmatched(event, deliveries=deliveries, settings=settings)
    [message] = await _outbox(db, address)
    assert message["subject"] == "We could not find your vaccination record"
    assert "could not find" in message["body"]
    assert "another phone number or email" in message["body"]
    assert settings.help_contact in message["body"]
    # The reason is for operators, never for the resident.
    assert "unmatched:none" not in message["body"]


async def test_twilio_delivery_records_the_provider_id_and_nothing_personal(
    db: asyncpg.Pool,
    fake_twilio: FakeTwilio,
    twilio: tuple[Deliveries, NotifierSettings],
) -> None:
    deliveries, settings = twilio
    phone = unique_phone()
    event = card_issued_event(Contact(channel="sms", address=phone), language="zh-HK")
    await handle_card_issued(event, deliveries=deliveries, settings=settings)
    [request] = fake_twilio.received
    assert request.fields["To"] == phone
    assert event.data.link_token in request.fields["Body"]
    row = await _delivery(db, event.message_id)
    assert row["state"] == "sent"
    assert row["provider"] == "twilio"
    assert row["provider_message_id"] == request.message_id
    assert row["attempts"] == 1
    assert row["language"] == "zh-Hant"
    assert row["last_error_code"] is None
    for personal in (phone, event.data.link_token, request.fields["Body"]):
        assert personal not in str(dict(row))


async def test_a_redelivered_sent_event_sends_nothing(
    fake_twilio: FakeTwilio, twilio: tuple[Deliveries, NotifierSettings]
) -> None:
    deliveries, settings = twilio
    event = unmatched_event(Contact(channel="sms", address=unique_phone()))
    await handle_unmatched(event, deliveries=deliveries, settings=settings)
    await handle_unmatched(event, deliveries=deliveries, settings=settings)
    assert len(fake_twilio.received) == 1


async def test_a_transient_failure_is_recorded_and_raised_for_the_broker_to_retry(
    db: asyncpg.Pool, fake_twilio: FakeTwilio, twilio: tuple[Deliveries, NotifierSettings]
) -> None:
    deliveries, settings = twilio
    event = card_issued_event(Contact(channel="sms", address=unique_phone()))
    fake_twilio.answer("500")
    with pytest.raises(TransientSendError):
        await handle_card_issued(event, deliveries=deliveries, settings=settings)
    row = await _delivery(db, event.message_id)
    assert (row["state"], row["attempts"], row["last_error_code"]) == (
        "pending",
        1,
        "twilio-20500",
    )
    await handle_card_issued(event, deliveries=deliveries, settings=settings)
    row = await _delivery(db, event.message_id)
    assert (row["state"], row["attempts"], row["last_error_code"]) == ("sent", 2, None)
    assert [r.status for r in fake_twilio.received] == [500, 201]


@pytest.mark.parametrize("code", ["21211", "21610", "21614"])
async def test_a_refused_recipient_fails_the_delivery_and_is_not_retried(
    db: asyncpg.Pool,
    fake_twilio: FakeTwilio,
    twilio: tuple[Deliveries, NotifierSettings],
    code: str,
) -> None:
    deliveries, settings = twilio
    event = card_issued_event(Contact(channel="sms", address=unique_phone()))
    fake_twilio.answer(code)
    # Returns normally: the broker acks, and nothing is parked for a number that cannot receive.
    await handle_card_issued(event, deliveries=deliveries, settings=settings)
    row = await _delivery(db, event.message_id)
    assert (row["state"], row["last_error_code"]) == ("failed", f"twilio-{code}")
    await handle_card_issued(event, deliveries=deliveries, settings=settings)
    assert len(fake_twilio.received) == 1


async def test_a_configuration_error_parks_the_event_and_keeps_it_sendable(
    db: asyncpg.Pool, fake_twilio: FakeTwilio, session: aiohttp.ClientSession
) -> None:
    settings = settings_for(fake_twilio, twilio_auth_token="rotated-token")
    event = card_issued_event(Contact(channel="sms", address=unique_phone()))
    with pytest.raises(ProviderRefusedError) as raised:
        await handle_card_issued(
            event, deliveries=build_deliveries(settings, db, session), settings=settings
        )
    assert isinstance(raised.value, PermanentError)
    row = await _delivery(db, event.message_id)
    assert (row["state"], row["last_error_code"]) == ("pending", "twilio-20003")
    # Once the credentials are fixed, replaying the parked event sends it.
    fixed = settings_for(fake_twilio)
    await handle_card_issued(event, deliveries=build_deliveries(fixed, db, session), settings=fixed)
    assert (await _delivery(db, event.message_id))["state"] == "sent"


async def test_an_attempt_in_flight_is_left_alone_until_its_lease_passes(
    db: asyncpg.Pool, fake_twilio: FakeTwilio, twilio: tuple[Deliveries, NotifierSettings]
) -> None:
    deliveries, settings = twilio
    event = card_issued_event(Contact(channel="sms", address=unique_phone()))
    fake_twilio.answer("slow")
    first = asyncio.create_task(handle_card_issued(event, deliveries=deliveries, settings=settings))
    await fake_twilio.requested.wait()
    # A second copy (a redelivery after a broker reconnect) must not send while the first may.
    with pytest.raises(AttemptInFlightError):
        await handle_card_issued(event, deliveries=deliveries, settings=settings)
    with pytest.raises(TransientSendError):
        await first
    assert len(fake_twilio.received) == 1
    # A crashed attempt: 'sending', its lease long gone. The redelivery sends.
    await db.execute(
        "UPDATE notify.deliveries SET state = 'sending', updated_at = now() - interval '1 hour' "
        "WHERE event_id = $1",
        event.message_id,
    )
    await handle_card_issued(event, deliveries=deliveries, settings=settings)
    row = await _delivery(db, event.message_id)
    assert (row["state"], row["attempts"]) == ("sent", 2)


async def test_email_goes_through_sendgrid(
    db: asyncpg.Pool, fake_sendgrid: FakeSendGrid, session: aiohttp.ClientSession
) -> None:
    settings = settings_for(fake_sendgrid)
    address = f"resident-{uuid.uuid4().hex[:8]}@example.net"
    event = card_issued_event(Contact(channel="email", address=address), language="vi")
    await handle_card_issued(
        event, deliveries=build_deliveries(settings, db, session), settings=settings
    )
    [request] = fake_sendgrid.received
    row = await _delivery(db, event.message_id)
    assert (row["provider"], row["state"]) == ("sendgrid", "sent")
    assert row["provider_message_id"] == request.message_id
    assert request.fields["subject"] == "Hồ sơ tiêm chủng của bạn đã sẵn sàng"


async def test_sandbox_sends_nothing_and_records_the_delivery(
    db: asyncpg.Pool, fake_twilio: FakeTwilio, session: aiohttp.ClientSession
) -> None:
    settings = settings_for(fake_twilio, sandbox=True)
    phone = unique_phone()
    event = card_issued_event(Contact(channel="sms", address=phone))
    outcome = await build_deliveries(settings, db, session).deliver(
        event_id=event.message_id,
        request_id=event.data.request_id,
        contact=event.data.contact,
        message=render("card_issued", "sms", "en", {"link": "x", "hours": "1"}),
    )
    assert outcome is Outcome.SENT
    assert fake_twilio.received == []
    assert await _outbox(db, phone) == []
    assert (await _delivery(db, event.message_id))["provider"] == "sandbox"
