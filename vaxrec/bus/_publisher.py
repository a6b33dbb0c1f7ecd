"""Publishing with publisher confirms: a publish returns only once the broker has the message."""

from __future__ import annotations

import secrets
import uuid
from typing import Any

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractExchange

from contracts import Envelope
from vaxrec.bus._topology import Topology

CONTENT_TYPE = "application/json"


def traceparent(correlation_id: uuid.UUID) -> str:
    """A W3C traceparent whose trace id is the request id, so every hop of one request shares
    one trace (and OpenTelemetry can be switched on without changing the messages)."""
    return f"00-{correlation_id.hex}-{secrets.token_hex(8)}-01"


class Publisher:
    """Publishes envelopes to the events exchange; raises if the broker does not confirm."""

    def __init__(self, channel: AbstractChannel, topology: Topology) -> None:
        self._channel = channel
        self._topology = topology
        self._exchange: AbstractExchange | None = None

    async def _events(self) -> AbstractExchange:
        if self._exchange is None:
            self._exchange = await self._channel.get_exchange(self._topology.exchange, ensure=False)
        return self._exchange

    async def publish(self, envelope: Envelope[Any]) -> None:
        await self.publish_raw(
            envelope.routing_key,
            envelope.model_dump_json().encode(),
            message_id=envelope.message_id,
            correlation_id=envelope.correlation_id,
            message_type=envelope.type,
        )

    async def publish_raw(
        self,
        routing_key: str,
        body: bytes,
        *,
        message_id: uuid.UUID,
        correlation_id: uuid.UUID,
        message_type: str,
    ) -> None:
        """Publish serialized bytes (the outbox relay stores them that way)."""
        message = aio_pika.Message(
            body,
            content_type=CONTENT_TYPE,
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=str(message_id),
            correlation_id=str(correlation_id),
            type=message_type,
            headers={"traceparent": traceparent(correlation_id)},
        )
        # mandatory: a message no queue is bound for comes back as an error, not silence.
        await (await self._events()).publish(message, routing_key=routing_key, mandatory=True)
