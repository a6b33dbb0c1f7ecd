"""Queue depth as the broker reports it, and its gauge on /metrics."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aio_pika
import pytest
from aiohttp import web

from contracts import RecordRequestedV1
from tests.support.broker import fresh_bus
from tests.support.builders import record_requested
from tests.support.http import serve_app
from vaxrec.bus import Bus
from vaxrec.metrics import BEFORE_SCRAPE, QUEUE_MESSAGES, BeforeScrape, metrics_endpoint


@pytest.fixture
async def bus(amqp_url: str) -> AsyncIterator[Bus]:
    async with fresh_bus(amqp_url) as bus:
        yield bus


async def test_depths_follow_the_queue_not_a_cached_answer(bus: Bus) -> None:
    queue = bus.topology.queue("matcher", RecordRequestedV1)
    assert await bus.queue_depths("matcher") == {queue: 0, bus.topology.parking_queue(queue): 0}
    for expected in (1, 2, 3):
        await bus.publisher.publish(record_requested())
        assert (await bus.queue_depths("matcher"))[queue] == expected


async def test_metrics_read_the_depths_at_scrape_time(bus: Bus) -> None:
    queue = bus.topology.queue("matcher", RecordRequestedV1)

    async def read_depths() -> None:
        for name, count in (await bus.queue_depths("matcher")).items():
            QUEUE_MESSAGES.labels(name).set(count)

    async def broken() -> None:
        raise ConnectionError("broker away")

    hooks: list[BeforeScrape] = [broken, read_depths]
    app = web.Application()
    app[BEFORE_SCRAPE] = hooks
    app.router.add_get("/metrics", metrics_endpoint)
    await bus.publisher.publish(record_requested())
    await bus.publisher.publish(record_requested())
    async with serve_app(app) as client:
        response = await client.get("/metrics")
        assert response.status == 200  # a failing refresh does not take the metrics down
        assert f'vaxrec_queue_messages{{queue="{queue}"}} 2.0' in await response.text()


async def test_a_missing_queue_fails_the_reading_not_the_consumers_channel(bus: Bus) -> None:
    parking = bus.topology.parking_queue(bus.topology.queue("matcher", RecordRequestedV1))
    await (await bus.channel.get_underlay_channel()).queue_delete(parking)
    with pytest.raises(aio_pika.exceptions.ChannelNotFoundEntity):
        await bus.queue_depths("matcher")
    assert bus.is_ready
    await bus.publisher.publish(record_requested())  # the publishing channel still works
