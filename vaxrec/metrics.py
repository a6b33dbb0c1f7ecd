"""Prometheus metrics, served at /metrics on every service's health (or HTTP) port.

Labels carry message types, routes, outcomes and reasons — never anything about a resident.
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import Awaitable, Callable

from aiohttp import web
from aiohttp.typedefs import Handler
from prometheus_client import CONTENT_TYPE_LATEST, Counter, Gauge, Histogram, generate_latest

MESSAGES = Counter(
    "vaxrec_messages_total",
    "Messages handled by this process, by routing key and outcome.",
    ["routing_key", "outcome"],  # consumed, published, retried, parked
)
HANDLER_SECONDS = Histogram(
    "vaxrec_handler_seconds",
    "Time a handler took, by routing key.",
    ["routing_key"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5),
)
QUEUE_MESSAGES = Gauge(
    "vaxrec_queue_messages",
    "Messages waiting in a queue this service consumes (and in its parking queue), read from "
    "the broker when /metrics is scraped.",
    ["queue"],
)
HTTP_REQUESTS = Counter(
    "vaxrec_http_requests_total",
    "HTTP requests, by route and status.",
    ["route", "status"],
)
HTTP_SECONDS = Histogram(
    "vaxrec_http_request_seconds",
    "HTTP request latency, by route.",
    ["route"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5),
)


def _route(request: web.Request) -> str:
    # The route template, not the path: a path holds link tokens.
    resource = request.match_info.route.resource
    return resource.canonical if resource is not None else "unmatched"


@web.middleware
async def http_metrics(request: web.Request, handler: Handler) -> web.StreamResponse:
    started = time.perf_counter()
    status = 500
    try:
        response = await handler(request)
        status = response.status
        return response
    except web.HTTPException as exc:
        status = exc.status
        raise
    finally:
        route = _route(request)
        HTTP_REQUESTS.labels(route, str(status)).inc()
        HTTP_SECONDS.labels(route).observe(time.perf_counter() - started)


#: Work to do just before a scrape (reading figures that live elsewhere, such as queue depths).
BeforeScrape = Callable[[], Awaitable[None]]
BEFORE_SCRAPE = web.AppKey("before_scrape", list[BeforeScrape])


async def metrics_endpoint(request: web.Request) -> web.Response:
    for refresh in request.app.get(BEFORE_SCRAPE, []):
        # A slow or absent broker must not take the process's own metrics down with it.
        with contextlib.suppress(Exception):
            async with asyncio.timeout(2):
                await refresh()
    response = web.Response(body=generate_latest())
    response.content_type = CONTENT_TYPE_LATEST.split(";")[0]
    return response
