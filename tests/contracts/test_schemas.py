import uuid

import pytest
from pydantic import ValidationError

from contracts import CONTRACTS, Contact, Envelope, RecordUnmatchedV1
from contracts.export import SCHEMAS, render, schemas
from tests.support.builders import record_requested


def test_committed_schemas_match_the_models() -> None:
    generated = schemas()
    assert {p.name for p in SCHEMAS.glob("*.json")} == set(generated)
    for name, schema in generated.items():
        assert (SCHEMAS / name).read_text() == render(schema), f"{name} is stale"


def test_every_contract_has_a_versioned_routing_key() -> None:
    keys = [c.routing_key() for c in CONTRACTS]
    assert keys == [
        "record.requested.v1",
        "record.matched.v1",
        "record.unmatched.v1",
        "card.issued.v1",
    ]


def test_envelope_round_trips_through_json() -> None:
    envelope = record_requested()
    again = Envelope[type(envelope.data)].model_validate_json(envelope.model_dump_json())
    assert again == envelope
    assert again.correlation_id == envelope.data.request_id


def test_envelope_refuses_a_type_that_is_not_its_data() -> None:
    envelope = record_requested()
    raw = envelope.model_dump(mode="json") | {"type": "record.unmatched"}
    with pytest.raises(ValidationError):
        Envelope[type(envelope.data)].model_validate(raw)


def test_caused_message_ids_are_deterministic_and_keep_the_correlation() -> None:
    cause = record_requested()
    data = RecordUnmatchedV1(
        request_id=cause.data.request_id,
        contact=Contact(channel="sms", address="+12135550100"),
        language="en",
        reason="unmatched:no-candidate",
    )
    first, second = cause.caused(data), cause.caused(data)
    assert first.message_id == second.message_id
    assert first.causation_id == cause.message_id
    assert first.correlation_id == cause.correlation_id
    assert first.routing_key == "record.unmatched.v1"
    assert first.message_id != record_requested().caused(data).message_id


def test_pin_travels_only_as_a_keyed_hash() -> None:
    body = record_requested().model_dump_json()
    assert "4829" not in body
    assert uuid.UUID(str(record_requested().message_id))
