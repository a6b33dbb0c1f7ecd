"""card.issued.v1 and record.unmatched.v1 → a message to the resident."""

from __future__ import annotations

from datetime import UTC, datetime

from contracts import CardIssuedV1, Envelope, RecordUnmatchedV1
from services.notifier._deliver import Deliveries
from services.notifier._messages import render
from services.notifier._settings import NotifierSettings


def card_link(settings: NotifierSettings, token: str) -> str:
    """The address a resident opens: <viewer_public_url>/c/<token>."""
    return f"{settings.viewer_public_url.rstrip('/')}/c/{token}"


async def handle_card_issued(
    envelope: Envelope[CardIssuedV1], *, deliveries: Deliveries, settings: NotifierSettings
) -> None:
    """Send the card's link."""
    card = envelope.data
    # Rounded, not floored: a 24-hour link read a few seconds after issue is still "24 hours".
    hours = max(1, round((card.expires_at - datetime.now(UTC)).total_seconds() / 3600))
    message = render(
        "card_issued",
        card.contact.channel,
        card.language,
        {"link": card_link(settings, card.link_token), "hours": str(hours)},
    )
    await deliveries.deliver(
        event_id=envelope.message_id,
        request_id=card.request_id,
        contact=card.contact,
        message=message,
    )


async def handle_unmatched(
    envelope: Envelope[RecordUnmatchedV1], *, deliveries: Deliveries, settings: NotifierSettings
) -> None:
    """Tell the resident nothing matched, and what to try."""
    unmatched = envelope.data
    message = render(
        "unmatched",
        unmatched.contact.channel,
        unmatched.language,
        {"help": settings.help_contact},
    )
    await deliveries.deliver(
        event_id=envelope.message_id,
        request_id=unmatched.request_id,
        contact=unmatched.contact,
        message=message,
    )
