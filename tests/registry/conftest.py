"""Registry fixtures: residents under a prefix of their own, removed after each test."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from tests.support.servers import BrokerServer, DatabaseServer, throwaway_database


@pytest.fixture
async def prefix(db: asyncpg.Pool) -> AsyncIterator[str]:
    """A registry-id prefix no other test uses; its residents are deleted afterwards."""
    value = f"T{secrets.token_hex(3).upper()}"
    yield value
    # Contacts and immunizations go with their patient (ON DELETE CASCADE).
    await db.execute("DELETE FROM registry.patients WHERE registry_id LIKE $1", f"{value}-%")


@pytest.fixture(scope="module")
def own_database_url(servers: tuple[DatabaseServer, BrokerServer]) -> Iterator[str]:
    """A database of this module's own, for commands that load the fixed demo residents."""
    with throwaway_database(servers[0]) as url:
        yield url
