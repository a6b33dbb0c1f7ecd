"""Matcher fixtures: residents imported through the real import path, under a prefix of their
own and on contacts no other test uses, removed after each test."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date

import asyncpg
import pytest

from contracts import Contact
from services.matcher import Outcome, find_person
from vaxrec.registry import Immunization, RegistryRecord, import_records

Add = Callable[..., Awaitable[RegistryRecord]]


@pytest.fixture
async def prefix(db: asyncpg.Pool) -> AsyncIterator[str]:
    value = f"M{secrets.token_hex(3).upper()}"
    yield value
    await db.execute("DELETE FROM registry.patients WHERE registry_id LIKE $1", f"{value}-%")


@pytest.fixture
def phone() -> str:
    """A valid US number no generated registry uses (they use 555-01XX)."""
    return f"+1628{secrets.randbelow(800) + 200:03d}{secrets.randbelow(10_000):04d}"


@pytest.fixture
def email(prefix: str) -> str:
    return f"{prefix.lower()}.family@example.org"


@pytest.fixture
def add(db: asyncpg.Pool, prefix: str) -> Add:
    """Import one resident (keyword fields of RegistryRecord; sensible defaults)."""
    counter = iter(range(1, 1000))

    async def add(
        given: str,
        family: str,
        born: date,
        *,
        phone: str | None = None,
        email: str | None = None,
        doses: tuple[Immunization, ...] = (Immunization("208", date(2021, 4, 1), "EW0150"),),
        registry_id: str | None = None,
    ) -> RegistryRecord:
        record = RegistryRecord(
            registry_id=registry_id or f"{prefix}-{next(counter):04d}",
            given_names=given,
            family_name=family,
            birth_date=born,
            phone=phone,
            email=email,
            immunizations=doses,
        )
        summary = await import_records(db, [(1, record)])
        assert summary.rejected == 0
        return record

    return add


@pytest.fixture
def find(db: asyncpg.Pool) -> Callable[..., Awaitable[Outcome]]:
    """find_person with the request's fields; the contact is given already normalized."""

    async def find(
        first: str, last: str, born: date, *, phone: str = "", email: str = ""
    ) -> Outcome:
        contact = (
            Contact(channel="sms", address=phone)
            if phone
            else Contact(channel="email", address=email)
        )
        return await find_person(
            db, first_name=first, last_name=last, birth_date=born, contact=contact
        )

    return find
