"""Deliveries against the real Postgres: one message per event, whatever is redelivered."""

from __future__ import annotations

import asyncio
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg

from contracts import CardIssuedV1, Contact, Envelope, RecordUnmatchedV1
from services.notifier._handlers import handle_card_issued, handle_unmatched
from services.notifier._messages import pick_language, render
from services.notifier._providers import OutboxProvider
from services.notifier._settings import NotifierSettings

SETTINGS = NotifierSettings(viewer_public_url="https://records.example.org", environment="test")


def card_issued(address: str) -> Envelope[CardIssuedV1]:
    request_id = uuid.uuid4()
    data = CardIssuedV1(
        request_id=request_id,
        card_id=uuid.uuid4(),
        link_token="A" * 43,
        expires_at=datetime.now(UTC) + timedelta(hours=24, minutes=1),
        contact=Contact(channel="sms", address=address),
        language="es-MX",
    )
    return Envelope.first(data, request_id)


async def _messages(db: asyncpg.Pool, address: str) -> list[asyncpg.Record]:
    return await db.fetch("SELECT * FROM notify.dev_outbox WHERE to_address = $1", address)


async def test_card_link_is_sent_once_however_often_the_event_arrives(db: asyncpg.Pool) -> None:
    address = f"+1213555{uuid.uuid4().int % 10_000:04d}"
    event = card_issued(address)
    provider = OutboxProvider()
    await asyncio.gather(
        *(
            handle_card_issued(event, pool=db, provider=provider, settings=SETTINGS)
            for _ in range(5)
        )
    )
    await handle_card_issued(event, pool=db, provider=provider, settings=SETTINGS)
    messages = await _messages(db, address)
    assert len(messages) == 1
    assert "https://records.example.org/c/" + "A" * 43 in messages[0]["body"]
    assert "24 hours" in messages[0]["body"]
    delivery = await db.fetchrow(
        "SELECT * FROM notify.deliveries WHERE event_id = $1", event.message_id
    )
    assert delivery["state"] == "sent"
    assert delivery["attempts"] == 1
    assert delivery["kind"] == "card_issued"
    # The delivery log never holds the contact or the body.
    assert address not in str(dict(delivery))
    assert "records.example.org" not in str(dict(delivery))


async def test_not_found_message_tells_what_to_do(db: asyncpg.Pool) -> None:
    address = f"nobody-{uuid.uuid4().hex[:8]}@example.org"
    request_id = uuid.uuid4()
    event = Envelope.first(
        RecordUnmatchedV1(
            request_id=request_id,
            contact=Contact(channel="email", address=address),
            language="en",
            reason="unmatched:no-candidate",
        ),
        request_id,
    )
    await handle_unmatched(event, pool=db, provider=OutboxProvider(), settings=SETTINGS)
    [message] = await _messages(db, address)
    assert message["subject"]
    assert "could not find" in message["body"]
    assert "another phone number or email" in message["body"]
    # The reason is for operators, never for the resident.
    assert "no-candidate" not in message["body"]


def test_language_falls_back_to_english() -> None:
    assert pick_language("en-US") == "en"
    assert pick_language("xx") == "en"
    assert render("unmatched", "fr-CA", help="x").body.startswith("We could not find")
