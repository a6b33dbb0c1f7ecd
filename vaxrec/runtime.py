"""Starting and stopping a service: logging, pool, bus, consumers, health port, signals."""

from __future__ import annotations

import asyncio
import contextlib
import signal
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field

import asyncpg
import structlog
from aiohttp import web

from vaxrec.bus import Bus, Topology, connect_bus
from vaxrec.db import create_pool
from vaxrec.health import Readiness, add_health_routes
from vaxrec.logging import configure_logging
from vaxrec.metrics import BEFORE_SCRAPE, QUEUE_MESSAGES, BeforeScrape
from vaxrec.settings import RuntimeSettings

log = structlog.get_logger("vaxrec.runtime")


@dataclass
class Resources:
    """What a running service holds: its database pool, bus, readiness checks and tasks."""

    pool: asyncpg.Pool | None
    bus_or_none: Bus | None
    readiness: Readiness = field(default_factory=Readiness)
    #: Background tasks of the service, cancelled when it stops.
    tasks: list[asyncio.Task[None]] = field(default_factory=list)

    @property
    def db(self) -> asyncpg.Pool:
        if self.pool is None:
            raise RuntimeError("this service was started without a database")
        return self.pool

    @property
    def bus(self) -> Bus:
        if self.bus_or_none is None:
            raise RuntimeError("this service was started without a broker")
        return self.bus_or_none


def topology_for(settings: RuntimeSettings) -> Topology:
    return Topology(settings.broker_namespace, settings.retry_delays_ms)


async def _database_ready(pool: asyncpg.Pool) -> bool:
    return bool(await pool.fetchval("SELECT true"))


async def _broker_ready(bus: Bus) -> bool:
    return bus.is_ready


@contextlib.asynccontextmanager
async def open_resources(
    settings: RuntimeSettings, name: str, *, database: bool = True, broker: bool = True
) -> AsyncIterator[Resources]:
    """Open what the service uses of the database pool and the bus; close them after."""
    async with contextlib.AsyncExitStack() as stack:
        pool = None
        if database:
            pool = await create_pool(settings.database_url, size=settings.db_pool_size)
            stack.push_async_callback(pool.close)
        bus = None
        if broker:
            bus = await connect_bus(
                settings.amqp_url, topology_for(settings), prefetch=settings.prefetch, name=name
            )
            stack.push_async_callback(bus.close)
        resources = Resources(pool, bus)
        if pool is not None:
            resources.readiness.add("database", lambda: _database_ready(pool))
        if bus is not None:
            resources.readiness.add("broker", lambda: _broker_ready(bus))
        try:
            yield resources
        finally:
            for task in resources.tasks:
                task.cancel()
            await asyncio.gather(*resources.tasks, return_exceptions=True)


async def serve(app: web.Application, port: int, host: str = "0.0.0.0") -> web.AppRunner:  # noqa: S104
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, host, port, reuse_address=True).start()
    return runner


async def wait_for_stop_signal() -> None:
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, stop.set)
    await stop.wait()


async def run_http_service(
    name: str,
    settings: RuntimeSettings,
    port: int,
    make_app: Callable[[Resources], web.Application],
    *,
    database: bool = True,
    broker: bool = True,
) -> None:
    """Run a public HTTP service (its health routes are on the same port) until SIGTERM."""
    configure_logging(name, level=settings.log_level, fmt=settings.log_format)
    async with open_resources(settings, name, database=database, broker=broker) as resources:
        runner = await serve(make_app(resources), port)
        log.info("service.started", port=port)
        try:
            await wait_for_stop_signal()
            log.info("service.stopping")
        finally:
            await runner.cleanup()


async def run_worker(
    name: str,
    settings: RuntimeSettings,
    port: int,
    start: Callable[[Resources], Awaitable[None]],
) -> None:
    """Run a bus worker until SIGTERM: `start` registers its consumers and background tasks."""

    def health_app(resources: Resources) -> web.Application:
        async def read_queue_depths() -> None:
            for queue, count in (await resources.bus.queue_depths(name)).items():
                QUEUE_MESSAGES.labels(queue).set(count)

        before_scrape: list[BeforeScrape] = [read_queue_depths]
        app = web.Application()
        app[BEFORE_SCRAPE] = before_scrape
        add_health_routes(app, resources.readiness)
        return app

    configure_logging(name, level=settings.log_level, fmt=settings.log_format)
    async with open_resources(settings, name) as resources:
        # Health first, so a probe can see the worker while it declares and starts consuming.
        runner = await serve(health_app(resources), port)
        try:
            await start(resources)
            log.info("service.started", port=port, namespace=settings.broker_namespace)
            await wait_for_stop_signal()
            log.info("service.stopping")
        finally:
            await runner.cleanup()
