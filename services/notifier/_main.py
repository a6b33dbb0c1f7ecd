"""python -m services.notifier"""

from __future__ import annotations

import asyncio
import contextlib
import functools
from collections.abc import AsyncIterator, Awaitable, Callable

import aiohttp
import asyncpg
import structlog
from aiohttp import web

from contracts import CardIssuedV1, RecordUnmatchedV1
from services.notifier._deliver import Deliveries
from services.notifier._handlers import handle_card_issued, handle_unmatched
from services.notifier._limits import ContactLimit
from services.notifier._messages import Channel
from services.notifier._providers import OutboxProvider, Provider, SandboxProvider
from services.notifier._sendgrid import SendGridEmail
from services.notifier._settings import NotifierSettings
from services.notifier._status import add_status_route
from services.notifier._store import DeliveryStore
from services.notifier._twilio import TwilioSms
from vaxrec.health import Readiness, add_health_routes
from vaxrec.logging import configure_logging
from vaxrec.metrics import http_metrics
from vaxrec.runtime import Resources, open_resources, serve, wait_for_stop_signal

log = structlog.get_logger("notifier")

Start = Callable[[Resources, Deliveries, NotifierSettings], Awaitable[None]]


def build_providers(
    settings: NotifierSettings, pool: asyncpg.Pool, session: aiohttp.ClientSession
) -> dict[Channel, Provider]:
    """A provider per channel: sandbox if asked, the real one if configured, else the outbox."""
    if settings.sandbox:
        sandbox = SandboxProvider()
        return {"sms": sandbox, "email": sandbox}
    outbox = OutboxProvider(pool)
    return {
        "sms": TwilioSms(settings, session) if settings.twilio_configured else outbox,
        "email": SendGridEmail(settings, session) if settings.sendgrid_configured else outbox,
    }


def build_deliveries(
    settings: NotifierSettings, pool: asyncpg.Pool, session: aiohttp.ClientSession
) -> Deliveries:
    """Everything a delivery needs, from the settings."""
    limit = ContactLimit(
        settings.contact_hash_key.get_secret_value().encode(),
        limit=settings.contact_limit,
        window_s=settings.contact_window_s,
    )
    store = DeliveryStore(
        pool, limit=limit.limit, window_s=limit.window_s, lease_s=settings.send_lease_s
    )
    return Deliveries(build_providers(settings, pool, session), limit, store)


async def start_consumers(
    resources: Resources, deliveries: Deliveries, settings: NotifierSettings
) -> None:
    """Handle both notification events from the notifier's queues."""
    await resources.bus.consume(
        "notifier",
        CardIssuedV1,
        functools.partial(handle_card_issued, deliveries=deliveries, settings=settings),
    )
    await resources.bus.consume(
        "notifier",
        RecordUnmatchedV1,
        functools.partial(handle_unmatched, deliveries=deliveries, settings=settings),
    )


def create_app(
    readiness: Readiness, settings: NotifierSettings, pool: asyncpg.Pool
) -> web.Application:
    """Health, metrics and, when Twilio reports delivery to us, POST /twilio/status."""
    app = web.Application(middlewares=[http_metrics], client_max_size=64 * 1024)
    add_health_routes(app, readiness)
    if settings.twilio_auth_token is not None and settings.twilio_status_callback_url:
        add_status_route(
            app,
            pool,
            settings.twilio_auth_token.get_secret_value(),
            settings.twilio_status_callback_url,
        )
    return app


@contextlib.asynccontextmanager
async def provider_session(settings: NotifierSettings) -> AsyncIterator[aiohttp.ClientSession]:
    """The one HTTP session every provider call goes through."""
    # Two consumers (one per event type) with `prefetch` messages each can all be in a call.
    connector = aiohttp.TCPConnector(limit=2 * settings.prefetch)
    timeout = aiohttp.ClientTimeout(total=settings.provider_timeout_s)
    async with aiohttp.ClientSession(connector=connector, timeout=timeout) as session:
        yield session


async def run(settings: NotifierSettings, start: Start = start_consumers) -> None:
    """Run the notifier until SIGTERM.

    Not `vaxrec.runtime.run_worker`: the notifier serves Twilio's status callback on its health
    port, and on SIGTERM lets the sends in flight finish before the bus closes.
    """
    configure_logging("notifier", level=settings.log_level, fmt=settings.log_format)
    # The session outlives the bus, so no handler still running can find it closed.
    async with provider_session(settings) as session, open_resources(settings, "notifier") as res:
        deliveries = build_deliveries(settings, res.db, session)
        runner = await serve(create_app(res.readiness, settings, res.db), settings.port)
        try:
            purge = deliveries.limit.purge_forever(res.db)
            res.tasks.append(asyncio.create_task(purge, name="contact-window-purge"))
            await start(res, deliveries, settings)
            providers = {ch: p.name for ch, p in deliveries.providers.items()}
            log.info("service.started", port=settings.port, providers=providers)
            await wait_for_stop_signal()
            log.info("service.stopping")
            unfinished = await deliveries.drain.close(settings.provider_timeout_s + 2)
            log.info("service.drained", unfinished=unfinished)
        finally:
            await runner.cleanup()


def main() -> None:
    """python -m services.notifier"""
    asyncio.run(run(NotifierSettings()))
