"""The asyncpg pool every service uses."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING, TypeAlias

import asyncpg

if TYPE_CHECKING:
    from asyncpg.pool import PoolConnectionProxy

#: A connection as a handler gets it: a plain one or one borrowed from the pool.
Connection: TypeAlias = "asyncpg.Connection[asyncpg.Record] | PoolConnectionProxy[asyncpg.Record]"


async def _init_connection(conn: asyncpg.Connection) -> None:
    await conn.set_type_codec("jsonb", encoder=json.dumps, decoder=json.loads, schema="pg_catalog")


class _PoolConnection(asyncpg.Connection):
    """A connection that costs no round trip when it goes back to the pool.

    asyncpg's default release sends "SELECT pg_advisory_unlock_all(); CLOSE ALL; UNLISTEN *;
    RESET ALL" on every release — a round trip per acquire, most of a short handler's database
    time. vaxrec never leaves session state behind (no SET, no session advisory locks, no
    WITH HOLD cursors, and the one LISTEN removes itself), so there is nothing to reset; an
    open transaction is still rolled back by asyncpg before the connection is reused.
    """

    def get_reset_query(self) -> str:
        return ""


async def create_pool(database_url: str, *, size: int = 10) -> asyncpg.Pool:
    pool = await asyncpg.create_pool(
        database_url,
        min_size=1,
        max_size=size,
        init=_init_connection,
        command_timeout=30,
        connection_class=_PoolConnection,
    )
    assert pool is not None
    return pool
