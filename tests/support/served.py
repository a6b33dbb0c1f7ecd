"""A service's real aiohttp application served on a local port from a thread of this process.

For tests that drive the app with a synchronous HTTP client (schemathesis): the app, its
database pool and its bus live on the thread's own event loop, exactly as in the service.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable, Iterator
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass

from aiohttp import web

from tests.support.stack import free_port
from vaxrec.runtime import serve


@dataclass(frozen=True)
class Served:
    """Where the app answers, and the app itself (for its routes)."""

    url: str
    app: web.Application


AppFactory = Callable[[], AbstractAsyncContextManager[web.Application]]


@contextlib.contextmanager
def served_in_thread(factory: AppFactory, *, timeout: float = 30) -> Iterator[Served]:
    """Serve the app `factory` opens until the block ends, then close it and its resources."""
    port = free_port()
    started = threading.Event()
    holder: dict[str, object] = {}

    async def main() -> None:
        stop = asyncio.Event()
        holder["stop"] = (asyncio.get_running_loop(), stop)
        async with factory() as app:
            runner = await serve(app, port, host="127.0.0.1")
            holder["app"] = app
            started.set()
            try:
                await stop.wait()
            finally:
                await runner.cleanup()

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as exc:  # reported to the test, which is waiting on `started`
            holder["error"] = exc
            started.set()

    thread = threading.Thread(target=run, name="served-app", daemon=True)
    thread.start()
    if not started.wait(timeout) or "error" in holder:
        raise RuntimeError(f"app did not start: {holder.get('error')!r}")
    app = holder["app"]
    assert isinstance(app, web.Application)
    try:
        yield Served(f"http://127.0.0.1:{port}", app)
    finally:
        loop, stop = holder["stop"]  # type: ignore[misc]
        loop.call_soon_threadsafe(stop.set)
        thread.join(timeout)
