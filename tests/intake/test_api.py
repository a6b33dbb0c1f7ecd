"""POST /api/v1/record-requests against the real broker."""

from __future__ import annotations

import json
import secrets
from collections.abc import AsyncIterator

import pytest

from contracts import Envelope, RecordRequestedV1
from services.intake._app import create_app
from services.intake._settings import IntakeSettings
from tests.support.broker import delete_namespace, fresh_bus, topology_for_tests
from tests.support.builders import TEST_PEPPER, request_body
from tests.support.http import serve_app
from vaxrec.bus import Bus, connect_bus
from vaxrec.hashing import pin_matches
from vaxrec.health import Readiness
from vaxrec.ids import seconds_since_request


@pytest.fixture
async def bus(amqp_url: str) -> AsyncIterator[Bus]:
    async with fresh_bus(amqp_url) as bus:
        yield bus


def _settings() -> IntakeSettings:
    return IntakeSettings(pepper=TEST_PEPPER.decode(), environment="test")


async def _queued(bus: Bus) -> Envelope[RecordRequestedV1]:
    queue = await bus.channel.get_queue(bus.topology.queue("matcher", RecordRequestedV1))
    message = await queue.get(no_ack=True, fail=True)
    assert message is not None
    return Envelope[RecordRequestedV1].model_validate_json(message.body)


async def test_accepted_request_is_on_the_bus_before_the_answer(bus: Bus) -> None:
    app = create_app(_settings(), bus.publisher, Readiness())
    async with serve_app(app) as client:
        response = await client.post("/api/v1/record-requests", json=request_body())
        assert response.status == 202
        body = await response.json()
    queued = await _queued(bus)
    assert str(queued.data.request_id) == body["request_id"] == str(queued.correlation_id)
    age = seconds_since_request(queued.data.request_id)  # a UUIDv7: it says when it was made
    assert age is not None
    assert 0 <= age < 30
    assert queued.data.first_name == "John"
    assert queued.data.contact.channel == "sms"
    # The PIN left intake only as a keyed hash that the pepper can check.
    assert "4829" not in queued.model_dump_json()
    salt = bytes.fromhex(queued.data.pin.salt)
    assert pin_matches(TEST_PEPPER, salt, "4829", bytes.fromhex(queued.data.pin.hash))


async def test_unknown_and_known_people_get_the_same_answer(bus: Bus) -> None:
    app = create_app(_settings(), bus.publisher, Readiness())
    async with serve_app(app) as client:
        known = await client.post("/api/v1/record-requests", json=request_body())
        unknown = await client.post(
            "/api/v1/record-requests", json=request_body(first_name="Nobody", last_name="Here")
        )
        assert known.status == unknown.status == 202
        assert (await known.json()).keys() == (await unknown.json()).keys()


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        (request_body(pin="2345"), {"pin"}),
        (request_body(first_name="", date_of_birth="tomorrow"), {"first_name", "date_of_birth"}),
        (request_body(consent=False, language="??"), {"consent", "language"}),
        (request_body(phone=None), {"body"}),
        (request_body(email="not-an-email", phone=None), {"email"}),
    ],
)
async def test_bad_input_is_a_422_problem_naming_each_field(
    bus: Bus, body: dict[str, object], fields: set[str]
) -> None:
    app = create_app(_settings(), bus.publisher, Readiness())
    async with serve_app(app) as client:
        response = await client.post("/api/v1/record-requests", json=body)
        assert response.status == 422
        assert response.content_type == "application/problem+json"
        problem = await response.json()
    assert {e["field"] for e in problem["errors"]} == fields
    # Nothing the resident typed comes back (it may be a PIN or a birth date).
    text = json.dumps(problem)
    for value in body.values():
        if isinstance(value, str) and len(value) >= 4:
            assert value not in text


@pytest.mark.parametrize("raw", [b"{", b"[]", b"\xff\xfe", b""])
async def test_malformed_bodies_are_400_problems(bus: Bus, raw: bytes) -> None:
    app = create_app(_settings(), bus.publisher, Readiness())
    async with serve_app(app) as client:
        response = await client.post("/api/v1/record-requests", data=raw)
        assert response.status == 400
        assert response.content_type == "application/problem+json"


async def test_unknown_routes_and_methods_are_problems(bus: Bus) -> None:
    app = create_app(_settings(), bus.publisher, Readiness())
    async with serve_app(app) as client:
        missing = await client.get("/nope")
        assert missing.status == 404
        assert missing.content_type == "application/problem+json"
        wrong = await client.get("/api/v1/record-requests")
        assert wrong.status == 405
        assert wrong.content_type == "application/problem+json"
        assert "POST" in wrong.headers["Allow"]
        huge = await client.post("/api/v1/record-requests", data=b"x" * 100_000)
        assert huge.status == 413
        assert huge.content_type == "application/problem+json"


async def test_broker_down_is_a_503_with_retry_after(amqp_url: str) -> None:
    namespace = f"vaxrec-test-{secrets.token_hex(4)}"
    bus = await connect_bus(amqp_url, topology_for_tests(namespace))
    await bus.close()  # the broker is gone as far as this publisher can tell
    try:
        settings = IntakeSettings(pepper="x", environment="test", publish_timeout_s=1)
        async with serve_app(create_app(settings, bus.publisher, Readiness())) as client:
            response = await client.post("/api/v1/record-requests", json=request_body())
            assert response.status == 503
            assert response.headers["Retry-After"] == "5"
            assert response.content_type == "application/problem+json"
    finally:
        await delete_namespace(amqp_url, namespace)


async def test_metrics_count_requests_by_route_template(bus: Bus) -> None:
    app = create_app(_settings(), bus.publisher, Readiness())
    async with serve_app(app) as client:
        await client.post("/api/v1/record-requests", json=request_body())
        metrics = await (await client.get("/metrics")).text()
    assert 'vaxrec_http_requests_total{route="/api/v1/record-requests",status="202"}' in metrics
    assert "John" not in metrics
