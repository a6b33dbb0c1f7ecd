"""Test data builders, in one place."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Any

from contracts import Contact, Envelope, KeyedPin, RecordRequestedV1
from vaxrec.hashing import pin_hash

TEST_PEPPER = b"test-pepper"
SALT = bytes(range(16))

DEMO = {
    "first_name": "John",
    "last_name": "Doe",
    "date_of_birth": "1951-08-15",
    "phone": "+1 213 555 0100",
    "pin": "4829",
    "consent": True,
    "language": "en",
}


def request_body(**overrides: Any) -> dict[str, Any]:
    body = dict(DEMO)
    body.update(overrides)
    return {k: v for k, v in body.items() if v is not None}


def keyed_pin(pin: str = "4829") -> KeyedPin:
    return KeyedPin(hash=pin_hash(TEST_PEPPER, SALT, pin).hex(), salt=SALT.hex())


def record_requested(
    *,
    first_name: str = "John",
    last_name: str = "Doe",
    date_of_birth: date = date(1951, 8, 15),
    contact: Contact | None = None,
    pin: str = "4829",
) -> Envelope[RecordRequestedV1]:
    request_id = uuid.uuid4()
    data = RecordRequestedV1(
        request_id=request_id,
        first_name=first_name,
        last_name=last_name,
        date_of_birth=date_of_birth,
        contact=contact or Contact(channel="sms", address="+1 (213) 555-0100"),
        pin=keyed_pin(pin),
        language="en",
    )
    return Envelope.first(data, request_id)
