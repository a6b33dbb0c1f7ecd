"""The AMQP client's own cost: what every worker pays per message before its handler does anything.

    .venv/bin/python bench/bus_floor_bench.py [--messages 8000] [--prefetch 64]

Each variant consumes `--messages` 800-byte persistent messages from one queue, publishes each
on to a second queue with publisher confirms, and acks it: the shape of every vaxrec worker
with an empty handler. It prints messages per second and client CPU per message for

- aio-pika, as the services use it (robust connection, a confirm awaited per publish, an ack
  per message);
- aiormq, the protocol layer under aio-pika, with an ack per message;
- aiormq with one ack (multiple=True) per 32 messages.

A script, not a test: the signer's target (issue 3) is judged against these floors.
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import secrets
import sys
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import aio_pika
import aiormq
from pamqp.commands import Basic

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from tests.support.servers import start_servers

BODY = b"x" * 800
PERSISTENT = Basic.Properties(delivery_mode=2)


def _cpu() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


async def _fill(amqp_url: str, queue: str, messages: int) -> None:
    connection = await aiormq.connect(amqp_url)
    channel = await connection.channel(publisher_confirms=True)
    await channel.queue_declare(queue, durable=True)
    await asyncio.gather(
        *(
            channel.basic_publish(BODY, routing_key=queue, properties=PERSISTENT)
            for _ in range(messages)
        )
    )
    await connection.close()


async def _drop(amqp_url: str, *queues: str) -> None:
    """Delete the bench's queues, once its own connection (and so its consumer) is closed."""
    connection = await aiormq.connect(amqp_url)
    channel = await connection.channel()
    for queue in queues:
        await channel.queue_delete(queue)
    await connection.close()


async def _measure(
    label: str, messages: int, start: Callable[[asyncio.Event], Awaitable[Any]]
) -> None:
    done = asyncio.Event()
    cpu, started = _cpu(), time.perf_counter()
    await start(done)
    await done.wait()
    seconds, cpu = time.perf_counter() - started, _cpu() - cpu
    print(
        f"{label:<34} {messages / seconds:7.0f} messages/s   "
        f"{cpu / messages * 1000:.3f} ms client CPU a message"
    )


async def aio_pika_floor(amqp_url: str, messages: int, prefetch: int) -> None:
    source, target = f"floor-{secrets.token_hex(4)}", f"floor-{secrets.token_hex(4)}"
    await _fill(amqp_url, source, messages)
    connection = await aio_pika.connect_robust(amqp_url)
    channel = await connection.channel(publisher_confirms=True)
    await channel.set_qos(prefetch_count=prefetch)
    queue = await channel.declare_queue(source, durable=True)
    await channel.declare_queue(target, durable=True)
    handled = 0

    async def start(done: asyncio.Event) -> None:
        async def on_message(message: aio_pika.abc.AbstractIncomingMessage) -> None:
            nonlocal handled
            await channel.default_exchange.publish(
                aio_pika.Message(message.body, delivery_mode=aio_pika.DeliveryMode.PERSISTENT),
                routing_key=target,
            )
            await message.ack()
            handled += 1
            if handled == messages:
                done.set()

        await queue.consume(on_message)

    try:
        await _measure("aio-pika, ack each", messages, start)
    finally:
        await connection.close()
        await _drop(amqp_url, source, target)


async def aiormq_floor(amqp_url: str, messages: int, prefetch: int, ack_every: int) -> None:
    source, target = f"floor-{secrets.token_hex(4)}", f"floor-{secrets.token_hex(4)}"
    await _fill(amqp_url, source, messages)
    connection = await aiormq.connect(amqp_url)
    channel = await connection.channel(publisher_confirms=True)
    await channel.basic_qos(prefetch_count=prefetch)
    await channel.queue_declare(target, durable=True)
    handled = 0

    async def start(done: asyncio.Event) -> None:
        async def on_message(message: aiormq.abc.DeliveredMessage) -> None:
            nonlocal handled
            await channel.basic_publish(message.body, routing_key=target, properties=PERSISTENT)
            handled += 1
            tag = message.delivery_tag
            assert tag is not None
            if ack_every == 1:
                await channel.basic_ack(tag)
            elif handled % ack_every == 0 or handled == messages:
                # Handlers finish in delivery order here, so every earlier tag is done too.
                await channel.basic_ack(tag, multiple=True)
            if handled == messages:
                done.set()

        await channel.basic_consume(source, on_message)

    label = "aiormq, ack each" if ack_every == 1 else f"aiormq, one ack per {ack_every}"
    try:
        await _measure(label, messages, start)
    finally:
        await connection.close()
        await _drop(amqp_url, source, target)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--messages", type=int, default=8000)
    parser.add_argument("--prefetch", type=int, default=64)
    args = parser.parse_args()
    with start_servers() as (_, broker):
        asyncio.run(aio_pika_floor(broker.amqp_url, args.messages, args.prefetch))
        asyncio.run(aiormq_floor(broker.amqp_url, args.messages, args.prefetch, 1))
        asyncio.run(aiormq_floor(broker.amqp_url, args.messages, args.prefetch, 32))


if __name__ == "__main__":
    main()
