"""Exchanges and queues: the one place the wiring of the services is written down.

    <ns>.events        topic exchange; routing key <type>.v<version>
    <ns>.<service>.<type>.v<version>             quorum queue, one per consumer and contract
    <ns>.<service>.<type>.v<version>.retry.<ms>  holding queue: after <ms> the message goes back
    <ns>.<service>.<type>.v<version>.parking     where messages go when the retry budget is spent
    <ns>.dlx           direct exchange that routes dead letters to their queue's parking queue

Every service declares the whole topology at start, so whichever starts first makes the
queues and a request is never published before the queue that must keep it exists.
"""

from __future__ import annotations

from dataclasses import dataclass

import aio_pika
from aio_pika.abc import AbstractChannel

from contracts import CardIssuedV1, Contract, RecordMatchedV1, RecordRequestedV1, RecordUnmatchedV1

#: Which service consumes which contract.
SUBSCRIPTIONS: dict[str, tuple[type[Contract], ...]] = {
    "matcher": (RecordRequestedV1,),
    "signer": (RecordMatchedV1,),
    "notifier": (RecordUnmatchedV1, CardIssuedV1),
}

#: A message redelivered this often without an ack (a consumer crashing on it every time)
#: is dead-lettered by the broker itself, so a poison message cannot crash-loop forever.
DELIVERY_LIMIT = 20


@dataclass(frozen=True)
class Topology:
    """The names of everything in one broker namespace."""

    namespace: str
    retry_delays_ms: tuple[int, ...]

    @property
    def exchange(self) -> str:
        return f"{self.namespace}.events"

    @property
    def dead_letter_exchange(self) -> str:
        return f"{self.namespace}.dlx"

    def queue(self, service: str, contract: type[Contract]) -> str:
        return f"{self.namespace}.{service}.{contract.routing_key()}"

    def retry_queue(self, queue: str, delay_ms: int) -> str:
        return f"{queue}.retry.{delay_ms}"

    def parking_queue(self, queue: str) -> str:
        return f"{queue}.parking"

    def consumer_queues(self) -> list[tuple[str, type[Contract]]]:
        return [
            (self.queue(service, contract), contract)
            for service, contracts in SUBSCRIPTIONS.items()
            for contract in contracts
        ]

    def all_queues(self) -> list[str]:
        names: list[str] = []
        for queue, _ in self.consumer_queues():
            names.append(queue)
            names.append(self.parking_queue(queue))
            names.extend(self.retry_queue(queue, d) for d in self.retry_delays_ms)
        return names


async def declare(channel: AbstractChannel, topology: Topology) -> None:
    """Declare every exchange and queue (idempotent)."""
    events = await channel.declare_exchange(
        topology.exchange, aio_pika.ExchangeType.TOPIC, durable=True
    )
    dlx = await channel.declare_exchange(
        topology.dead_letter_exchange, aio_pika.ExchangeType.DIRECT, durable=True
    )
    for name, contract in topology.consumer_queues():
        queue = await channel.declare_queue(
            name,
            durable=True,
            arguments={
                "x-queue-type": "quorum",
                "x-dead-letter-exchange": topology.dead_letter_exchange,
                "x-dead-letter-routing-key": name,
                "x-delivery-limit": DELIVERY_LIMIT,
            },
        )
        await queue.bind(events, routing_key=contract.routing_key())
        parking = await channel.declare_queue(
            topology.parking_queue(name), durable=True, arguments={"x-queue-type": "quorum"}
        )
        await parking.bind(dlx, routing_key=name)
        for delay in topology.retry_delays_ms:
            # Holding queues have no consumer: a message waits out the TTL, then the broker
            # dead-letters it through the default exchange straight back to its own queue
            # (not the topic exchange, which would hand it to every other subscriber too).
            await channel.declare_queue(
                topology.retry_queue(name, delay),
                durable=True,
                arguments={
                    "x-queue-type": "quorum",
                    "x-message-ttl": delay,
                    "x-dead-letter-exchange": "",
                    "x-dead-letter-routing-key": name,
                    "x-dead-letter-strategy": "at-least-once",
                    "x-overflow": "reject-publish",
                },
            )


async def delete(channel: AbstractChannel, topology: Topology) -> None:
    """Delete every exchange and queue of a namespace (a finished test run, an old environment)."""
    for queue in topology.all_queues():
        await channel.queue_delete(queue)
    await channel.exchange_delete(topology.exchange)
    await channel.exchange_delete(topology.dead_letter_exchange)
