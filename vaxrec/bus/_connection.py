"""The broker connection a service keeps for its lifetime."""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import aio_pika
from aio_pika.abc import AbstractChannel, AbstractRobustConnection

from contracts import Contract
from vaxrec.bus._consumer import Consumer, Handler
from vaxrec.bus._publisher import Publisher
from vaxrec.bus._topology import SUBSCRIPTIONS, Topology, declare

T = TypeVar("T", bound=Contract)


@dataclass
class Bus:
    """A robust connection, one confirming channel, the declared topology and a publisher."""

    connection: AbstractRobustConnection
    channel: AbstractChannel
    topology: Topology
    publisher: Publisher

    @property
    def is_ready(self) -> bool:
        return not self.connection.is_closed and not self.channel.is_closed

    async def consume(self, service: str, contract: type[T], handler: Handler[T]) -> None:
        """Start handling `service`'s queue for `contract`."""
        queue = self.topology.queue(service, contract)
        await Consumer(
            self.channel, self.topology, self.publisher, queue, contract, handler
        ).start()

    async def queue_depths(self, service: str) -> dict[str, int]:
        """Messages waiting in `service`'s queues and their parking queues.

        Asked on a channel of its own, never the consumers': a passive declare that fails (a
        queue deleted by hand) closes the channel it was asked on. And asked of the underlying
        channel: aio-pika's robust channel answers a repeated passive declare from its own
        cache, with the count of the first answer."""
        probe = await self.connection.channel(publisher_confirms=False)
        try:
            channel = await probe.get_underlay_channel()
            depths: dict[str, int] = {}
            for contract in SUBSCRIPTIONS.get(service, ()):
                queue = self.topology.queue(service, contract)
                for name in (queue, self.topology.parking_queue(queue)):
                    declared = await channel.queue_declare(name, passive=True)
                    depths[name] = declared.message_count or 0
            return depths
        finally:
            await probe.close()

    async def close(self) -> None:
        await self.connection.close()


async def connect_bus(
    amqp_url: str, topology: Topology, *, prefetch: int = 64, name: str = "vaxrec"
) -> Bus:
    """Connect (reconnecting by itself after a broker restart), declare everything."""
    connection = await aio_pika.connect_robust(
        amqp_url, client_properties={"connection_name": name}, timeout=10
    )
    channel = await connection.channel(publisher_confirms=True, on_return_raises=True)
    await channel.set_qos(prefetch_count=prefetch)
    await declare(channel, topology)
    return Bus(connection, channel, topology, Publisher(channel, topology))
