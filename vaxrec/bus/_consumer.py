"""Consuming: a typed handler per queue, ack after the work is committed, retry, then park.

A handler is a plain async function: one typed envelope in, the next message (or None) out.
This module owns everything the broker needs around it:

- the body does not parse or does not fit the contract → parked at once (retrying cannot
  make it valid), with the reason in a header;
- the handler raises `PermanentError` → parked at once;
- the handler raises anything else → copied to the next holding queue (back-off), and parked
  when the retry budget is spent;
- the handler returns a message → published with confirms *before* the ack, with an id derived
  from this message's id, so a redelivery republishes the same id and downstream dedupes.
"""

from __future__ import annotations

import uuid
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

import aio_pika
import structlog
from aio_pika.abc import AbstractChannel, AbstractIncomingMessage
from pydantic import ValidationError

from contracts import Contract, Envelope
from vaxrec.bus._publisher import Publisher
from vaxrec.bus._topology import Topology
from vaxrec.metrics import HANDLER_SECONDS, MESSAGES

log = structlog.get_logger("vaxrec.bus")

ATTEMPT_HEADER = "x-vaxrec-attempt"
ERROR_HEADER = "x-vaxrec-error"

T = TypeVar("T", bound=Contract)
Handler = Callable[[Envelope[T]], Awaitable[Contract | None]]


class PermanentError(Exception):
    """The message can never be handled; park it instead of retrying."""


class _UnparseableError(Exception):
    pass


def _describe(exc: BaseException) -> str:
    # Only the error's type and, for validation errors, the failing locations: the text of a
    # validation error quotes the input, which may be a resident's personal data.
    if isinstance(exc, ValidationError):
        locs = ",".join(".".join(str(p) for p in e["loc"]) for e in exc.errors()[:5])
        return f"ValidationError:{locs}"
    return type(exc).__name__


def _attempt(message: AbstractIncomingMessage) -> int:
    value = message.headers.get(ATTEMPT_HEADER)
    return value if isinstance(value, int) else 0


class Consumer:
    """Runs one handler on one queue."""

    def __init__(
        self,
        channel: AbstractChannel,
        topology: Topology,
        publisher: Publisher,
        queue: str,
        contract: type[T],
        handler: Handler[T],
    ) -> None:
        self._channel = channel
        self._topology = topology
        self._publisher = publisher
        self._queue = queue
        self._model = Envelope[contract]  # type: ignore[valid-type]
        self._contract = contract
        self._handler: Handler[Any] = handler

    async def start(self) -> None:
        # The queue object the robust channel registered when it declared the topology: only a
        # consumer started on that one is restored when the connection comes back after a
        # broker restart (get_queue(ensure=False) gives a bare queue that is silently dropped).
        queue = await self._channel.get_queue(self._queue, ensure=True)
        await queue.consume(self._on_message)

    def _parse(self, message: AbstractIncomingMessage) -> Envelope[Any]:
        try:
            envelope: Envelope[Any] = self._model.model_validate_json(message.body)
        except ValidationError as exc:
            raise _UnparseableError(_describe(exc)) from None
        if (envelope.type, envelope.version) != (self._contract.TYPE, self._contract.VERSION):
            raise _UnparseableError(f"unexpected type {envelope.type}.v{envelope.version}")
        return envelope

    async def _on_message(self, message: AbstractIncomingMessage) -> None:
        try:
            envelope = self._parse(message)
        except _UnparseableError as exc:
            await self._park(message, str(exc))
            return
        with structlog.contextvars.bound_contextvars(
            correlation_id=str(envelope.correlation_id),
            message_id=str(envelope.message_id),
            message_type=envelope.routing_key,
        ):
            try:
                with HANDLER_SECONDS.labels(envelope.routing_key).time():
                    result = await self._handler(envelope)
                if result is not None:
                    outgoing = envelope.caused(result)
                    await self._publisher.publish(outgoing)
                    MESSAGES.labels(outgoing.routing_key, "published").inc()
            except PermanentError as exc:
                log.warning("message.permanent_failure", error=_describe(exc))
                await self._park(message, _describe(exc))
                return
            except Exception as exc:
                await self._retry(message, exc)
                return
            await message.ack()
            MESSAGES.labels(envelope.routing_key, "consumed").inc()

    async def _retry(self, message: AbstractIncomingMessage, exc: Exception) -> None:
        attempt = _attempt(message)
        delays = self._topology.retry_delays_ms
        if attempt >= len(delays):
            log.error("message.retries_exhausted", attempts=attempt, error=_describe(exc))
            await self._park(message, _describe(exc))
            return
        log.warning("message.retry", attempt=attempt + 1, error=_describe(exc), exc_info=exc)
        target = self._topology.retry_queue(self._queue, delays[attempt])
        await self._copy_to(message, target, attempt=attempt + 1, error=_describe(exc))
        MESSAGES.labels(self._contract.routing_key(), "retried").inc()

    async def _park(self, message: AbstractIncomingMessage, error: str) -> None:
        log.error("message.parked", error=error)
        attempt = _attempt(message)
        await self._copy_to(
            message, self._topology.parking_queue(self._queue), attempt=attempt, error=error
        )
        MESSAGES.labels(self._contract.routing_key(), "parked").inc()

    async def _copy_to(
        self, message: AbstractIncomingMessage, queue: str, *, attempt: int, error: str
    ) -> None:
        """Hand the message on to another queue; the original is acked only once that is
        confirmed, so a crash in between redelivers it rather than losing it."""
        try:
            copy = aio_pika.Message(
                message.body,
                content_type=message.content_type,
                delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
                message_id=message.message_id or str(uuid.uuid4()),
                correlation_id=message.correlation_id,
                type=message.type,
                headers={**message.headers, ATTEMPT_HEADER: attempt, ERROR_HEADER: error},
            )
            await self._channel.default_exchange.publish(copy, routing_key=queue, mandatory=True)
        except Exception:
            log.exception("message.requeue_after_failed_copy")
            await message.nack(requeue=True)
            return
        await message.ack()
