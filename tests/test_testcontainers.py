"""The testcontainers path: throwaway Postgres and RabbitMQ containers when an engine answers."""

from __future__ import annotations

import asyncio
import os

import aio_pika
import asyncpg
import pytest

from tests.support.servers import docker_available, throwaway_containers
from vaxrec.migrate import apply_migrations

pytestmark = [
    pytest.mark.docker,
    pytest.mark.skipif(
        not docker_available(),
        reason="no Docker engine reachable here, so testcontainers cannot start containers; "
        "the suite uses the Postgres and RabbitMQ named by VAXREC_TEST_* or the local ones",
    ),
]


def testthrowaway_containers_give_a_migratable_database_and_a_broker() -> None:
    assert not os.environ.get("VAXREC_TEST_DATABASE_URL")
    with throwaway_containers() as (database_url, amqp_url):
        apply_migrations(database_url)

        async def check() -> None:
            conn = await asyncpg.connect(database_url)
            try:
                assert await conn.fetchval("SELECT count(*) FROM cards.issued_cards") == 0
            finally:
                await conn.close()
            connection = await aio_pika.connect(amqp_url)
            await connection.close()

        asyncio.run(check())
