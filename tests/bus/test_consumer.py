"""The bus runtime against the real RabbitMQ: publish, handle, retry with back-off, park."""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator

import aio_pika
import pytest

from contracts import Contact, Envelope, RecordRequestedV1, RecordUnmatchedV1
from tests.support.broker import fresh_bus
from tests.support.builders import record_requested
from vaxrec.bus import ATTEMPT_HEADER, ERROR_HEADER, Bus, PermanentError


@pytest.fixture
async def bus(amqp_url: str) -> AsyncIterator[Bus]:
    async with fresh_bus(amqp_url) as bus:
        yield bus


async def _get(bus: Bus, queue: str, wait_s: float = 5.0) -> aio_pika.abc.AbstractIncomingMessage:
    q = await bus.channel.get_queue(queue, ensure=False)
    deadline = asyncio.get_running_loop().time() + wait_s
    while asyncio.get_running_loop().time() < deadline:
        message = await q.get(fail=False, no_ack=True)
        if message is not None:
            return message
        await asyncio.sleep(0.05)
    raise AssertionError(f"nothing arrived on {queue}")


def _unmatched(envelope: Envelope[RecordRequestedV1]) -> RecordUnmatchedV1:
    return RecordUnmatchedV1(
        request_id=envelope.data.request_id,
        contact=Contact(channel="sms", address="+12135550100"),
        language="en",
        reason="unmatched:no-candidate",
    )


async def test_handler_result_is_published_with_a_derived_id(bus: Bus) -> None:
    async def handler(envelope: Envelope[RecordRequestedV1]) -> RecordUnmatchedV1:
        return _unmatched(envelope)

    await bus.consume("matcher", RecordRequestedV1, handler)
    sent = record_requested()
    await bus.publisher.publish(sent)
    out = await _get(bus, bus.topology.queue("notifier", RecordUnmatchedV1))
    received = Envelope[RecordUnmatchedV1].model_validate_json(out.body)
    assert received.causation_id == sent.message_id
    assert received.correlation_id == sent.correlation_id
    assert received.message_id == sent.caused(received.data).message_id
    assert out.correlation_id == str(sent.correlation_id)
    version, trace_id, span_id, flags = str(out.headers["traceparent"]).split("-")
    assert (version, trace_id, flags) == ("00", sent.correlation_id.hex, "01")
    assert len(span_id) == 16


async def test_transient_failures_are_retried_with_back_off_then_succeed(bus: Bus) -> None:
    calls: list[float] = []

    async def flaky(envelope: Envelope[RecordRequestedV1]) -> RecordUnmatchedV1:
        calls.append(asyncio.get_running_loop().time())
        if len(calls) < 3:
            raise ConnectionError("registry unavailable")
        return _unmatched(envelope)

    await bus.consume("matcher", RecordRequestedV1, flaky)
    await bus.publisher.publish(record_requested())
    await _get(bus, bus.topology.queue("notifier", RecordUnmatchedV1))
    assert len(calls) == 3
    delays = bus.topology.retry_delays_ms
    assert calls[1] - calls[0] >= delays[0] / 1000 * 0.9
    assert calls[2] - calls[1] >= delays[1] / 1000 * 0.9


async def test_exhausted_retries_are_parked_with_the_last_error(bus: Bus) -> None:
    calls = 0

    async def broken(envelope: Envelope[RecordRequestedV1]) -> None:
        nonlocal calls
        calls += 1
        raise TimeoutError

    await bus.consume("matcher", RecordRequestedV1, broken)
    sent = record_requested()
    await bus.publisher.publish(sent)
    queue = bus.topology.queue("matcher", RecordRequestedV1)
    parked = await _get(bus, bus.topology.parking_queue(queue))
    assert calls == len(bus.topology.retry_delays_ms) + 1
    assert parked.headers[ERROR_HEADER] == "TimeoutError"
    assert parked.headers[ATTEMPT_HEADER] == len(bus.topology.retry_delays_ms)
    assert json.loads(parked.body)["message_id"] == str(sent.message_id)


async def test_permanent_failures_are_parked_at_once(bus: Bus) -> None:
    calls = 0

    async def refuses(envelope: Envelope[RecordRequestedV1]) -> None:
        nonlocal calls
        calls += 1
        raise PermanentError("cannot ever work")

    await bus.consume("matcher", RecordRequestedV1, refuses)
    await bus.publisher.publish(record_requested())
    queue = bus.topology.queue("matcher", RecordRequestedV1)
    parked = await _get(bus, bus.topology.parking_queue(queue))
    assert calls == 1
    assert parked.headers[ERROR_HEADER] == "PermanentError"


@pytest.mark.parametrize(
    "body",
    [
        b"not json",
        b'{"message_id": "x"}',
        json.dumps({"type": "record.requested", "version": 9}).encode(),
    ],
)
async def test_poison_messages_are_parked_without_reaching_the_handler(
    bus: Bus, body: bytes
) -> None:
    called = False

    async def handler(envelope: Envelope[RecordRequestedV1]) -> None:
        nonlocal called
        called = True

    await bus.consume("matcher", RecordRequestedV1, handler)
    exchange = await bus.channel.get_exchange(bus.topology.exchange)
    await exchange.publish(aio_pika.Message(body), routing_key="record.requested.v1")
    queue = bus.topology.queue("matcher", RecordRequestedV1)
    parked = await _get(bus, bus.topology.parking_queue(queue))
    assert parked.body == body
    assert str(parked.headers[ERROR_HEADER]).startswith("ValidationError")
    assert not called


async def test_validation_errors_never_quote_personal_data(bus: Bus) -> None:
    async def handler(envelope: Envelope[RecordRequestedV1]) -> None:
        raise AssertionError("must not be called")

    await bus.consume("matcher", RecordRequestedV1, handler)
    raw = record_requested().model_dump(mode="json")
    raw["data"]["date_of_birth"] = "Jane Secretname 1980"
    exchange = await bus.channel.get_exchange(bus.topology.exchange)
    await exchange.publish(
        aio_pika.Message(json.dumps(raw).encode()), routing_key="record.requested.v1"
    )
    queue = bus.topology.queue("matcher", RecordRequestedV1)
    parked = await _get(bus, bus.topology.parking_queue(queue))
    assert "Secretname" not in str(parked.headers[ERROR_HEADER])


async def test_unroutable_publish_is_an_error_not_silence(bus: Bus) -> None:
    await bus.channel.queue_delete(bus.topology.queue("matcher", RecordRequestedV1))
    with pytest.raises(aio_pika.exceptions.DeliveryError):
        await bus.publisher.publish(record_requested())
