"""A stack of the five services per test module, in a database and broker namespace of its own.

The retry budget and the notifier's send lease keep the relation they have in production: a
redelivery that meets another attempt's live lease is retried for longer than the lease lasts,
so a killed notifier's unfinished sends are retried, not parked (the production defaults are
five retries over about 12 minutes against a 30 s lease).
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator

import asyncpg
import pytest

from tests.support.broker import delete_topology
from tests.support.stack import Stack, stack_with_new_key
from vaxrec.bus import Topology
from vaxrec.db import create_pool

RETRY_DELAYS_MS = (300, 600, 1200, 2400)
STACK_ENV = {
    "VAXREC_RETRY_DELAYS_MS": str(list(RETRY_DELAYS_MS)),
    "VAXREC_PROVIDER_TIMEOUT_S": "1",
    "VAXREC_SEND_LEASE_S": "2",
    "VAXREC_PREFETCH": "32",
}


@pytest.fixture(scope="module")
def topology(amqp_url: str) -> Iterator[Topology]:
    """A broker namespace for this module's stack, deleted with its holding queues after."""
    topology = Topology(f"vaxrec-rel-{secrets.token_hex(4)}", RETRY_DELAYS_MS)
    yield topology
    asyncio.run(delete_topology(amqp_url, topology))


@pytest.fixture(scope="module")
def stack(
    module_database_url: str,
    amqp_url: str,
    topology: Topology,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    with stack_with_new_key(
        tmp_path_factory.mktemp("stack"),
        database_url=module_database_url,
        amqp_url=amqp_url,
        namespace=topology.namespace,
        extra_env=STACK_ENV,
    ) as stack:
        yield stack


@pytest.fixture
async def stack_db(module_database_url: str) -> AsyncIterator[asyncpg.Pool]:
    pool = await create_pool(module_database_url, size=2)
    try:
        yield pool
    finally:
        await pool.close()
