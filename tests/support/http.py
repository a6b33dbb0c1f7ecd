"""Serving an aiohttp application on a real local port for a test."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from aiohttp import web
from aiohttp.test_utils import TestClient, TestServer


@contextlib.asynccontextmanager
async def serve_app(
    app: web.Application,
) -> AsyncIterator[TestClient[web.Request, web.Application]]:
    async with TestClient(TestServer(app)) as client:
        yield client
