"""Fixtures for the real Postgres and RabbitMQ.

Which servers: the ones named by VAXREC_TEST_DATABASE_URL / VAXREC_TEST_AMQP_URL; when none is
named and a Docker engine answers, throwaway testcontainers; otherwise this machine's local
services. Either way each run gets its own throwaway database and broker namespace, dropped after.
"""

from __future__ import annotations

import asyncio
import os
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import asyncpg
import pytest

from tests.support.servers import BrokerServer, DatabaseServer, start_servers, throwaway_database
from vaxrec.db import create_pool

SHARED_DIR = Path(os.environ.get("VAXREC_SHARED_DIR", Path(__file__).parents[2] / "shared"))


@pytest.fixture(scope="session")
def servers() -> Iterator[tuple[DatabaseServer, BrokerServer]]:
    with start_servers() as found:
        yield found


@pytest.fixture(scope="session")
def database_url(servers: tuple[DatabaseServer, BrokerServer]) -> Iterator[str]:
    """A migrated throwaway database for this test run."""
    with throwaway_database(servers[0]) as url:
        yield url


@pytest.fixture(scope="module")
def module_database_url(servers: tuple[DatabaseServer, BrokerServer]) -> Iterator[str]:
    """A migrated database of the test module's own: services run as processes on it see
    nothing that other tests left behind."""
    with throwaway_database(servers[0]) as url:
        yield url


@pytest.fixture(scope="session")
def amqp_url(servers: tuple[DatabaseServer, BrokerServer]) -> str:
    return servers[1].amqp_url


@pytest.fixture(scope="session")
def broker_namespace(amqp_url: str) -> Iterator[str]:
    """A throwaway broker namespace (prefix of every exchange and queue) for this run."""
    namespace = f"vaxrec-test-{secrets.token_hex(4)}"
    yield namespace
    from tests.support.broker import delete_namespace

    asyncio.run(delete_namespace(amqp_url, namespace))


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(database_url, size=4)
    try:
        yield pool
    finally:
        await pool.close()


@pytest.fixture
def shared_dir() -> Path:
    if not SHARED_DIR.is_dir():
        pytest.fail(f"../shared not found at {SHARED_DIR} (set VAXREC_SHARED_DIR)")
    return SHARED_DIR
