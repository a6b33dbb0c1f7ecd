from datetime import date, timedelta

import pytest
from pydantic import ValidationError

from services.intake._models import RecordRequest, pin_problem
from tests.support.builders import request_body


@pytest.mark.parametrize("pin", ["4829", "1357", "9876", "0012", "1233"])
def test_allowed_pins(pin: str) -> None:
    assert pin_problem(pin) is None


@pytest.mark.parametrize(
    ("pin", "why"),
    [
        ("123", "4 digits"),
        ("12345", "4 digits"),
        ("12a4", "4 digits"),
        ("\uff11\uff12\uff13\uff14", "4 digits"),  # full-width digits
        ("0000", "same digit"),
        ("7777", "same digit"),
        ("1234", "ascending"),
        ("0123", "ascending"),
        ("6789", "ascending"),
    ],
)
def test_refused_pins(pin: str, why: str) -> None:
    problem = pin_problem(pin)
    assert problem is not None
    assert why in problem


def _errors(**overrides: object) -> set[str]:
    with pytest.raises(ValidationError) as info:
        RecordRequest.model_validate(request_body(**overrides))
    return {".".join(str(p) for p in e["loc"]) or "body" for e in info.value.errors()}


def test_the_demo_request_is_valid() -> None:
    request = RecordRequest.model_validate(request_body())
    assert request.date_of_birth == date(1951, 8, 15)


def test_exactly_one_contact() -> None:
    assert _errors(phone=None) == {"body"}
    both = request_body(email="john.doe@example.org")
    with pytest.raises(ValidationError):
        RecordRequest.model_validate(both)


def test_each_bad_field_is_named() -> None:
    errors = _errors(
        first_name="",
        date_of_birth=(date.today() + timedelta(days=1)).isoformat(),
        pin="1111",
        consent=False,
        language="not a tag!",
    )
    assert {"first_name", "date_of_birth", "pin", "consent", "language"} <= errors


def test_birth_dates_before_1900_are_refused() -> None:
    assert "date_of_birth" in _errors(date_of_birth="1899-12-31")


def test_unknown_fields_are_refused() -> None:
    assert "ssn" in _errors(ssn="123-45-6789")


@pytest.mark.parametrize("written", [0, 19510815, -1, "15/08/1951", "1951-8-15", True])
def test_a_birth_date_must_be_written_as_a_date(written: object) -> None:
    with pytest.raises(ValidationError, match="YYYY-MM-DD"):
        RecordRequest.model_validate(request_body(date_of_birth=written))
