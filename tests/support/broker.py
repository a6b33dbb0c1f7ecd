"""Broker namespaces for tests: each made fresh and deleted after."""

from __future__ import annotations

import contextlib
import secrets
from collections.abc import AsyncIterator

import aio_pika

from vaxrec.bus import Bus, Topology, connect_bus, delete

#: Every retry delay any test configures, so their holding queues are deleted too.
TEST_RETRY_DELAYS_MS = (200, 400)


def topology_for_tests(namespace: str) -> Topology:
    return Topology(namespace, TEST_RETRY_DELAYS_MS)


async def delete_topology(amqp_url: str, topology: Topology) -> None:
    connection = await aio_pika.connect(amqp_url)
    try:
        await delete(await connection.channel(), topology)
    finally:
        await connection.close()


async def delete_namespace(amqp_url: str, namespace: str) -> None:
    await delete_topology(amqp_url, topology_for_tests(namespace))


@contextlib.asynccontextmanager
async def fresh_bus(amqp_url: str, *, prefetch: int = 8) -> AsyncIterator[Bus]:
    """A bus in a namespace of its own: queues left with messages cannot leak between tests."""
    namespace = f"vaxrec-test-{secrets.token_hex(4)}"
    bus = await connect_bus(amqp_url, topology_for_tests(namespace), prefetch=prefetch)
    try:
        yield bus
    finally:
        await bus.close()
        await delete_namespace(amqp_url, namespace)
