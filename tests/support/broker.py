"""Removing a test run's broker namespace."""

from __future__ import annotations

import aio_pika

from vaxrec.bus import Topology

#: Every retry delay any test configures, so their holding queues are deleted too.
TEST_RETRY_DELAYS_MS = (200, 400)


def topology_for_tests(namespace: str) -> Topology:
    return Topology(namespace, TEST_RETRY_DELAYS_MS)


async def delete_namespace(amqp_url: str, namespace: str) -> None:
    topology = topology_for_tests(namespace)
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        for queue in topology.all_queues():
            await channel.queue_delete(queue)
        await channel.exchange_delete(topology.exchange)
        await channel.exchange_delete(topology.dead_letter_exchange)
    finally:
        await connection.close()
