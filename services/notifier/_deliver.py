"""One delivery per notification event, whatever the broker redelivers.

    claim (commit) ──▶ provider call, outside any transaction ──▶ record (commit) ──▶ ack

The claim marks the attempt (`sending`, attempts + 1) and, on the first attempt, counts the
message against the contact's limit. A redelivered event whose delivery is `sent`, `failed` or
`rate_limited` sends nothing. A crash before the provider answers leaves `sending`, and the
redelivery sends once the attempt's lease has passed. The one repeat a resident can see is a
crash (SIGKILL, OOM, lost node) between the provider accepting the message and the commit that
records it: neither Twilio nor SendGrid takes an idempotency key on a send, so a resend cannot
be told apart from a new message. That window is the provider call itself, so a crash repeats
about as many messages as were mid-call; a SIGTERM repeats none (see `_drain`).
"""

from __future__ import annotations

import enum
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field

import structlog

from contracts import Contact
from services.notifier._drain import Drain
from services.notifier._limits import ContactLimit
from services.notifier._messages import Channel, Rendered
from services.notifier._metrics import (
    NOTIFICATIONS,
    PROVIDER_SECONDS,
    REQUEST_TO_NOTIFICATION_SECONDS,
)
from services.notifier._providers import (
    Outgoing,
    PermanentSendError,
    Provider,
    RecipientRejectedError,
    TransientSendError,
)
from services.notifier._store import Claim, DeliveryStore, Result
from vaxrec.bus import PermanentError
from vaxrec.ids import seconds_since_request

log = structlog.get_logger("notifier")


class Outcome(enum.Enum):
    """What handling one event did."""

    SENT = "sent"
    ALREADY_DONE = "already_done"
    RATE_LIMITED = "rate_limited"
    FAILED = "failed"


class AttemptInFlightError(Exception):
    """Another consumer's attempt at this delivery is within its lease: try again later."""


class ProviderRefusedError(PermanentError):
    """The provider refused the message for a reason an operator must fix: park it."""


@dataclass(frozen=True)
class Deliveries:
    """What delivering needs: a provider per channel, the contact limit, the delivery table."""

    providers: Mapping[Channel, Provider]
    limit: ContactLimit
    store: DeliveryStore
    drain: Drain = field(default_factory=Drain)

    async def deliver(
        self, *, event_id: uuid.UUID, request_id: uuid.UUID, contact: Contact, message: Rendered
    ) -> Outcome:
        """Send `message` to `contact` unless this event was already handled."""
        async with self.drain.admit():
            return await self._deliver(event_id, request_id, contact, message)

    async def _deliver(
        self, event_id: uuid.UUID, request_id: uuid.UUID, contact: Contact, message: Rendered
    ) -> Outcome:
        provider = self.providers[contact.channel]
        decision = await self.store.claim(
            Claim(
                event_id,
                request_id,
                message.kind,
                contact.channel,
                provider.name,
                message.language,
                self.limit.contact_key(contact),
            )
        )
        if decision == "in_flight":
            raise AttemptInFlightError()
        if decision != "claimed":
            outcome = Outcome.ALREADY_DONE if decision == "done" else Outcome.RATE_LIMITED
            log.info("notification.not_sent", outcome=outcome.value, channel=contact.channel)
            NOTIFICATIONS.labels(contact.channel, provider.name, outcome.value).inc()
            return outcome
        started = time.perf_counter()
        try:
            provider_id = await provider.send(
                Outgoing(event_id, contact.channel, contact.address, message)
            )
        except RecipientRejectedError as exc:
            await self.store.record(Result(event_id, "failed", error_code=exc.code))
            log.warning("notification.failed", channel=contact.channel, error=exc.code)
            NOTIFICATIONS.labels(contact.channel, provider.name, "failed").inc()
            return Outcome.FAILED
        except PermanentSendError as exc:
            # Back to pending: once an operator fixes the cause, replaying the parked event sends.
            await self.store.record(Result(event_id, "pending", error_code=exc.code))
            NOTIFICATIONS.labels(contact.channel, provider.name, "parked").inc()
            raise ProviderRefusedError(exc.code) from None
        except TransientSendError as exc:
            await self.store.record(Result(event_id, "pending", error_code=exc.code))
            NOTIFICATIONS.labels(contact.channel, provider.name, "retried").inc()
            raise
        finally:
            PROVIDER_SECONDS.labels(provider.name).observe(time.perf_counter() - started)
        # The window: the provider has the message and this commit has not happened yet.
        await self.store.record(Result(event_id, "sent", provider_message_id=provider_id or None))
        log.info(
            "notification.sent",
            kind=message.kind,
            channel=contact.channel,
            provider=provider.name,
            language=message.language,
        )
        NOTIFICATIONS.labels(contact.channel, provider.name, "sent").inc()
        waited = seconds_since_request(request_id)
        if waited is not None:
            REQUEST_TO_NOTIFICATION_SECONDS.labels(message.kind).observe(waited)
        return Outcome.SENT
