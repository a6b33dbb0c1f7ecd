"""The request body a resident submits, and the rules it must meet."""

from __future__ import annotations

import itertools
import re
from datetime import date
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

_PHONE = re.compile(r"^\+?[0-9 ().\-]{7,25}$")
_EMAIL = re.compile(r"^[^@\s]{1,64}@[^@\s]+\.[^@\s]{2,}$")
_LANGUAGE = re.compile(r"^[A-Za-z]{2,3}(-[A-Za-z0-9]{2,8}){0,3}$")
_EARLIEST_BIRTH = date(1900, 1, 1)


#: Why a PIN may be refused: a code for each rule, and the API's English text for it.
PIN_RULES = {
    "digits": "PIN must be exactly 4 digits",
    "same": "PIN must not be the same digit four times",
    "ascending": "PIN must not be an ascending run such as 1234",
}


def pin_rule(pin: str) -> str | None:
    """The code of the first PIN rule `pin` breaks (a key of `PIN_RULES`), or None."""
    if not re.fullmatch(r"[0-9]{4}", pin):
        return "digits"
    if len(set(pin)) == 1:
        return "same"
    digits = [int(c) for c in pin]
    if all(b - a == 1 for a, b in itertools.pairwise(digits)):
        return "ascending"
    return None


def pin_problem(pin: str) -> str | None:
    """Why a PIN is not allowed, or None. Shared rules: the form explains them up front."""
    rule = pin_rule(pin)
    return None if rule is None else PIN_RULES[rule]


#: Every 4-digit PIN the rules refuse, with the rule's code: the form's script checks against
#: this table, so the page and the server cannot disagree about a PIN.
REFUSED_PINS = {
    pin: rule for n in range(10_000) if (rule := pin_rule(pin := f"{n:04d}")) is not None
}


def _clean_name(value: str) -> str:
    value = " ".join(value.split())
    if not value:
        raise ValueError("must not be empty")
    if any(ord(c) < 32 for c in value):
        raise ValueError("must not contain control characters")
    return value


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


class RecordRequest(BaseModel):
    """POST /api/v1/record-requests."""

    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    first_name: str = Field(min_length=1, max_length=100)
    last_name: str = Field(min_length=1, max_length=100)
    date_of_birth: date
    phone: str | None = None
    email: str | None = Field(default=None, max_length=254)
    pin: str
    consent: Literal[True]
    language: str = "en"

    _names = field_validator("first_name", "last_name")(_clean_name)

    @field_validator("date_of_birth", mode="before")
    @classmethod
    def _written_as_a_date(cls, value: object) -> object:
        # Lax pydantic reads a JSON number as a Unix time (0 → 1970-01-01): a client sending a
        # number has a bug, and guessing a birth date for it could find the wrong person.
        if not isinstance(value, str | date) or not _ISO_DATE.fullmatch(str(value)):
            raise ValueError("must be a date written YYYY-MM-DD")
        return value

    @field_validator("date_of_birth")
    @classmethod
    def _plausible_birth_date(cls, value: date) -> date:
        if value > date.today():
            raise ValueError("must not be in the future")
        if value < _EARLIEST_BIRTH:
            raise ValueError("must not be before 1900-01-01")
        return value

    @field_validator("phone")
    @classmethod
    def _phone_shape(cls, value: str | None) -> str | None:
        if value is not None and not _PHONE.fullmatch(value):
            raise ValueError("must be a phone number such as +1 213 555 0100")
        return value

    @field_validator("email")
    @classmethod
    def _email_shape(cls, value: str | None) -> str | None:
        if value is not None and not _EMAIL.fullmatch(value):
            raise ValueError("must be an email address such as name@example.org")
        return value

    @field_validator("pin")
    @classmethod
    def _pin_rules(cls, value: str) -> str:
        problem = pin_problem(value)
        if problem:
            raise ValueError(problem)
        return value

    @field_validator("language")
    @classmethod
    def _language_tag(cls, value: str) -> str:
        if not _LANGUAGE.fullmatch(value):
            raise ValueError("must be a BCP 47 language tag such as en or es-MX")
        return value

    @model_validator(mode="after")
    def _one_contact(self) -> RecordRequest:
        if (self.phone is None) == (self.email is None):
            raise ValueError("give exactly one of phone or email")
        return self
