"""/healthz (the process is alive), /readyz (its broker and database answer), /metrics."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from aiohttp import web

from vaxrec.metrics import metrics_endpoint

Check = Callable[[], Awaitable[bool]]


class Readiness:
    """Named readiness checks; ready when every one passes within a short timeout."""

    def __init__(self) -> None:
        self._checks: dict[str, Check] = {}

    def add(self, name: str, check: Check) -> None:
        self._checks[name] = check

    async def report(self) -> dict[str, bool]:
        async def run(check: Check) -> bool:
            try:
                return await asyncio.wait_for(check(), timeout=2)
            except Exception:
                return False

        results = await asyncio.gather(*(run(c) for c in self._checks.values()))
        return dict(zip(self._checks, results, strict=True))


def add_health_routes(app: web.Application, readiness: Readiness) -> None:
    async def healthz(_: web.Request) -> web.Response:
        return web.json_response({"status": "ok"})

    async def readyz(_: web.Request) -> web.Response:
        checks = await readiness.report()
        ready = all(checks.values())
        return web.json_response(
            {"status": "ready" if ready else "not ready", "checks": checks},
            status=200 if ready else 503,
        )

    app.router.add_get("/healthz", healthz)
    app.router.add_get("/readyz", readyz)
    app.router.add_get("/metrics", metrics_endpoint)
