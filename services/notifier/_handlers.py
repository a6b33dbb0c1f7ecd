"""card.issued.v1 and record.unmatched.v1 → a message to the resident."""

from __future__ import annotations

import math
from datetime import UTC, datetime

import asyncpg

from contracts import CardIssuedV1, Envelope, RecordUnmatchedV1
from services.notifier._deliver import deliver
from services.notifier._messages import render
from services.notifier._providers import Provider
from services.notifier._settings import NotifierSettings


async def handle_card_issued(
    envelope: Envelope[CardIssuedV1],
    *,
    pool: asyncpg.Pool,
    provider: Provider,
    settings: NotifierSettings,
) -> None:
    card = envelope.data
    hours = max(1, math.floor((card.expires_at - datetime.now(UTC)).total_seconds() / 3600))
    message = render(
        "card_issued",
        card.language,
        link=f"{settings.viewer_public_url.rstrip('/')}/c/{card.link_token}",
        hours=str(hours),
    )
    await deliver(
        pool,
        provider,
        event_id=envelope.message_id,
        request_id=card.request_id,
        kind="card_issued",
        contact=card.contact,
        language=card.language,
        message=message,
    )


async def handle_unmatched(
    envelope: Envelope[RecordUnmatchedV1],
    *,
    pool: asyncpg.Pool,
    provider: Provider,
    settings: NotifierSettings,
) -> None:
    unmatched = envelope.data
    message = render("unmatched", unmatched.language, help=settings.help_contact)
    await deliver(
        pool,
        provider,
        event_id=envelope.message_id,
        request_id=unmatched.request_id,
        kind="unmatched",
        contact=unmatched.contact,
        language=unmatched.language,
        message=message,
    )
