"""Messages about a resident's record request."""

from __future__ import annotations

import uuid
from datetime import date
from typing import Literal

from pydantic import Field

from contracts._envelope import Contract


class Contact(Contract):
    """Where the resident asked to be told: the phone or email their provider recorded."""

    channel: Literal["sms", "email"]
    address: str = Field(min_length=3, max_length=320)


class KeyedPin(Contract):
    """The resident's PIN as HMAC-SHA-256(pepper, salt || PIN); the PIN itself never travels."""

    hash: str = Field(pattern=r"^[0-9a-f]{64}$")
    salt: str = Field(pattern=r"^[0-9a-f]{32}$")


class RecordRequestedV1(Contract):
    """A resident asked for their record (published by intake)."""

    TYPE = "record.requested"
    VERSION = 1

    request_id: uuid.UUID
    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    date_of_birth: date
    contact: Contact
    pin: KeyedPin
    language: str = Field(min_length=2, max_length=35)


class Dose(Contract):
    """One completed immunization as the registry holds it."""

    cvx: str = Field(pattern=r"^[0-9]{1,3}$")
    occurred_on: date
    lot_number: str | None = None
    performer: str | None = None


class RegistryPatient(Contract):
    """The matched person as the registry records them."""

    registry_id: str
    given_names: str
    family_name: str
    birth_date: date


class RecordMatchedV1(Contract):
    """Exactly one registry person matched the request (published by matcher)."""

    TYPE = "record.matched"
    VERSION = 1

    request_id: uuid.UUID
    patient: RegistryPatient
    doses: list[Dose]
    contact: Contact
    pin: KeyedPin
    language: str
    match_reason: str


class RecordUnmatchedV1(Contract):
    """No single registry person matched (published by matcher)."""

    TYPE = "record.unmatched"
    VERSION = 1

    request_id: uuid.UUID
    contact: Contact
    language: str
    reason: str
