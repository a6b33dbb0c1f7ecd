"""Field checks shared by the extract readers; their messages never quote the value they reject."""

from __future__ import annotations

from datetime import date

__all__ = [
    "STATUSES",
    "LineError",
    "check_cvx",
    "check_date",
    "check_registry_id",
    "optional_text",
    "required_text",
]

#: FHIR R4 Immunization.status values.
STATUSES = frozenset({"completed", "entered-in-error", "not-done"})

_MAX_TEXT = 200


class LineError(ValueError):
    """A line of an extract that cannot be loaded; the message is safe to print and log."""


def required_text(value: object, what: str) -> str:
    text = optional_text(value, what)
    if text is None:
        raise LineError(f"{what} is missing")
    return text


def optional_text(value: object, what: str) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str):
        raise LineError(f"{what} is not a string")
    value = value.strip()
    if not value:
        return None
    # Postgres text cannot hold NUL, and one bad value must not fail a whole batch.
    if len(value) > _MAX_TEXT or not value.isprintable():
        raise LineError(f"{what} is too long or holds control characters")
    return value


def check_registry_id(value: object) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 64:
        raise LineError("registry_id is not a string of 1 to 64 characters")
    # isprintable() is False for every whitespace character but the ASCII space.
    if " " in value or not value.isprintable():
        raise LineError("registry_id holds spaces or control characters")
    return value


def check_date(value: object, what: str) -> date:
    if value is None or value == "":
        raise LineError(f"{what} is missing")
    # fromisoformat alone would also take "20210223" and week dates; extracts use YYYY-MM-DD.
    if not isinstance(value, str) or len(value) != 10 or value[4] != "-" or value[7] != "-":
        raise LineError(f"{what} is not a date (YYYY-MM-DD)")
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise LineError(f"{what} is not a valid date") from None


def check_cvx(value: object, what: str) -> str:
    if not isinstance(value, str) or not 0 < len(value) <= 3 or not value.isdigit():
        raise LineError(f"{what} is not a CVX code (1 to 3 digits)")
    # isdigit() also takes other scripts' digits; CVX codes are ASCII.
    if not value.isascii():
        raise LineError(f"{what} is not a CVX code (1 to 3 digits)")
    return value
