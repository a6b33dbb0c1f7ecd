"""POST /twilio/status: signed delivery reports update the delivery row; unsigned ones do not."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator

import aiohttp
import asyncpg
import pytest
from aiohttp.test_utils import TestClient
from twilio.request_validator import RequestValidator

from contracts import Contact
from services.notifier._handlers import handle_card_issued
from services.notifier._main import build_deliveries, create_app
from tests.notifier.conftest import card_issued_event, settings_for, unique_phone
from tests.notifier.fakes import FakeTwilio
from tests.support.http import serve_app
from vaxrec.health import Readiness

CALLBACK_URL = "https://notify.example.org/twilio/status"


@pytest.fixture
async def sent(
    db: asyncpg.Pool, fake_twilio: FakeTwilio, session: aiohttp.ClientSession
) -> tuple[uuid.UUID, str]:
    """A delivered card link: its event id and Twilio message sid."""
    settings = settings_for(fake_twilio, twilio_status_callback_url=CALLBACK_URL)
    event = card_issued_event(Contact(channel="sms", address=unique_phone()))
    await handle_card_issued(
        event, deliveries=build_deliveries(settings, db, session), settings=settings
    )
    sid = fake_twilio.received[0].message_id
    assert sid is not None
    return event.message_id, sid


@pytest.fixture
async def notifier(db: asyncpg.Pool, fake_twilio: FakeTwilio) -> AsyncIterator[TestClient]:
    settings = settings_for(fake_twilio, twilio_status_callback_url=CALLBACK_URL)
    async with serve_app(create_app(Readiness(), settings, db)) as client:
        yield client


async def report(
    client: TestClient, params: dict[str, str], *, token: str = FakeTwilio.AUTH_TOKEN
) -> int:
    signature = RequestValidator(token).compute_signature(CALLBACK_URL, params)
    response = await client.post(
        "/twilio/status", data=params, headers={"X-Twilio-Signature": signature}
    )
    return response.status


def status(sid: str, value: str, error: str | None = None) -> dict[str, str]:
    params = {
        "MessageSid": sid,
        "SmsSid": sid,
        "AccountSid": FakeTwilio.ACCOUNT_SID,
        "MessageStatus": value,
        "SmsStatus": value,
        "To": "+12135550100",
        "From": FakeTwilio.FROM_NUMBER,
        "ApiVersion": "2010-04-01",
    }
    if error:
        params["ErrorCode"] = error
    return params


async def _row(db: asyncpg.Pool, event_id: uuid.UUID) -> asyncpg.Record:
    row = await db.fetchrow("SELECT * FROM notify.deliveries WHERE event_id = $1", event_id)
    assert row is not None
    return row


async def test_reports_update_the_delivery_and_never_go_backwards(
    db: asyncpg.Pool, notifier: TestClient, sent: tuple[uuid.UUID, str]
) -> None:
    event_id, sid = sent
    assert await report(notifier, status(sid, "sent")) == 204
    assert (await _row(db, event_id))["provider_status"] == "sent"
    assert await report(notifier, status(sid, "delivered")) == 204
    # A late "sent" after "delivered" changes nothing.
    assert await report(notifier, status(sid, "sent")) == 204
    row = await _row(db, event_id)
    assert (row["state"], row["provider_status"]) == ("sent", "delivered")
    assert row["provider_status_at"] is not None


async def test_an_undelivered_report_keeps_its_error_code(
    db: asyncpg.Pool, notifier: TestClient, sent: tuple[uuid.UUID, str]
) -> None:
    event_id, sid = sent
    assert await report(notifier, status(sid, "undelivered", "30003")) == 204
    row = await _row(db, event_id)
    assert (row["provider_status"], row["last_error_code"]) == ("undelivered", "twilio-30003")


async def test_a_report_with_a_bad_signature_is_refused(
    db: asyncpg.Pool, notifier: TestClient, sent: tuple[uuid.UUID, str]
) -> None:
    event_id, sid = sent
    assert await report(notifier, status(sid, "delivered"), token="not-the-token") == 403
    unsigned = await notifier.post("/twilio/status", data=status(sid, "delivered"))
    assert unsigned.status == 403
    assert (await _row(db, event_id))["provider_status"] is None


async def test_a_report_for_an_unknown_message_is_accepted_and_ignored(
    notifier: TestClient,
) -> None:
    assert await report(notifier, status("SM" + "0" * 32, "delivered")) == 204


async def test_without_a_callback_address_there_is_no_endpoint(
    db: asyncpg.Pool, fake_twilio: FakeTwilio
) -> None:
    async with serve_app(create_app(Readiness(), settings_for(fake_twilio), db)) as client:
        response = await client.post("/twilio/status", data={})
        assert response.status == 404
        assert (await client.get("/healthz")).status == 200
