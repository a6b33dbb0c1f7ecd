"""The per-contact limit: shared in Postgres, keyed by an HMAC, counted once per event."""

from __future__ import annotations

import asyncio

import aiohttp
import asyncpg

from contracts import Contact
from services.notifier._handlers import handle_unmatched
from services.notifier._limits import ContactLimit, normalized
from services.notifier._main import build_deliveries
from tests.notifier.conftest import settings_for, unique_phone, unmatched_event
from tests.notifier.fakes import FakeTwilio


def test_spellings_of_one_contact_share_a_key() -> None:
    limit = ContactLimit(b"k", limit=1, window_s=60)
    a = Contact(channel="sms", address="+1 (213) 555-0100")
    b = Contact(channel="sms", address="+12135550100")
    c = Contact(channel="email", address=" Someone@Example.org ")
    d = Contact(channel="email", address="someone@example.org")
    assert limit.contact_key(a) == limit.contact_key(b)
    assert limit.contact_key(c) == limit.contact_key(d)
    assert limit.contact_key(a) != ContactLimit(b"other", limit=1, window_s=60).contact_key(a)
    assert normalized(b) == "sms:12135550100"


async def test_over_the_limit_nothing_is_sent_and_the_delivery_says_why(
    db: asyncpg.Pool, fake_twilio: FakeTwilio, session: aiohttp.ClientSession
) -> None:
    settings = settings_for(fake_twilio, contact_limit=3)
    # Two replicas: the count lives in Postgres, not in either process.
    replicas = [build_deliveries(settings, db, session) for _ in range(2)]
    phone = unique_phone()
    events = [unmatched_event(Contact(channel="sms", address=phone)) for _ in range(5)]
    await asyncio.gather(
        *(
            handle_unmatched(e, deliveries=replicas[i % 2], settings=settings)
            for i, e in enumerate(events)
        )
    )
    assert len(fake_twilio.received) == 3
    states = await db.fetch(
        "SELECT state FROM notify.deliveries WHERE event_id = ANY($1::uuid[])",
        [e.message_id for e in events],
    )
    assert sorted(r["state"] for r in states) == ["rate_limited"] * 2 + ["sent"] * 3
    # A redelivered event was counted once, and a limited one stays limited.
    for event in events:
        await handle_unmatched(event, deliveries=replicas[0], settings=settings)
    assert len(fake_twilio.received) == 3
    # Someone else is not affected.
    other = unmatched_event(Contact(channel="sms", address=unique_phone()))
    await handle_unmatched(other, deliveries=replicas[0], settings=settings)
    assert len(fake_twilio.received) == 4
    # The database holds a keyed hash, never the number.
    keys = await db.fetch("SELECT contact_key FROM notify.contact_windows")
    assert all(phone.encode() not in bytes(r["contact_key"]) for r in keys)


async def test_a_new_window_opens_once_the_old_one_has_passed(
    db: asyncpg.Pool, fake_twilio: FakeTwilio, session: aiohttp.ClientSession
) -> None:
    settings = settings_for(fake_twilio, contact_limit=1)
    deliveries = build_deliveries(settings, db, session)
    contact = Contact(channel="sms", address=unique_phone())
    first, second, third = (unmatched_event(contact) for _ in range(3))
    await handle_unmatched(first, deliveries=deliveries, settings=settings)
    await handle_unmatched(second, deliveries=deliveries, settings=settings)
    assert len(fake_twilio.received) == 1
    await db.execute(
        "UPDATE notify.contact_windows SET window_start = now() - interval '2 hours' "
        "WHERE contact_key = $1",
        deliveries.limit.contact_key(contact),
    )
    await handle_unmatched(third, deliveries=deliveries, settings=settings)
    assert len(fake_twilio.received) == 2
    await db.execute(
        "UPDATE notify.contact_windows SET window_start = now() - interval '2 hours' "
        "WHERE contact_key = $1",
        deliveries.limit.contact_key(contact),
    )
    assert await deliveries.limit.purge(db) >= 1
    assert not await db.fetchval(
        "SELECT 1 FROM notify.contact_windows WHERE contact_key = $1",
        deliveries.limit.contact_key(contact),
    )
