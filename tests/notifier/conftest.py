"""Fakes of Twilio and SendGrid, settings pointing at them, and the providers' HTTP session."""

from __future__ import annotations

import uuid
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from contracts import CardIssuedV1, Contact, Envelope, RecordUnmatchedV1
from services.notifier._main import provider_session
from services.notifier._settings import NotifierSettings
from tests.notifier.fakes import FakeSendGrid, FakeTwilio
from vaxrec.ids import new_request_id

BASE_URL = "https://records.example.org"


def settings_for(*fakes: FakeTwilio | FakeSendGrid, **overrides: Any) -> NotifierSettings:
    """Notifier settings that send through the given fakes."""
    values: dict[str, Any] = {
        "environment": "test",
        "viewer_public_url": BASE_URL,
        "contact_hash_key": "test-contact-key",
        "provider_timeout_s": 0.5,
        "send_lease_s": 1.0,
    }
    for fake in fakes:
        # The fakes give environment variables; each is its field's name in upper case.
        values.update({name.lower(): value for name, value in fake.env().items()})
    values.update(overrides)
    return NotifierSettings(**values)


def unique_phone() -> str:
    return f"+1213555{uuid.uuid4().int % 10_000:04d}"


def card_issued_event(contact: Contact, language: str = "en") -> Envelope[CardIssuedV1]:
    from datetime import UTC, datetime, timedelta

    request_id = new_request_id()
    data = CardIssuedV1(
        request_id=request_id,
        card_id=uuid.uuid4(),
        link_token=uuid.uuid4().hex + "A" * 11,
        expires_at=datetime.now(UTC) + timedelta(hours=24, minutes=1),
        contact=contact,
        language=language,
    )
    return Envelope.first(data, request_id)


def unmatched_event(contact: Contact, language: str = "en") -> Envelope[RecordUnmatchedV1]:
    request_id = new_request_id()
    data = RecordUnmatchedV1(
        request_id=request_id, contact=contact, language=language, reason="unmatched:none"
    )
    return Envelope.first(data, request_id)


@pytest.fixture
async def fake_twilio() -> AsyncIterator[FakeTwilio]:
    async with FakeTwilio() as fake:
        yield fake


@pytest.fixture
async def fake_sendgrid() -> AsyncIterator[FakeSendGrid]:
    async with FakeSendGrid() as fake:
        yield fake


@pytest.fixture
async def session() -> AsyncIterator[aiohttp.ClientSession]:
    async with provider_session(settings_for()) as session:
        yield session
