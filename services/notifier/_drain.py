"""Stopping without repeats: deliveries in flight finish, new ones are left to the broker.

A SIGKILL can repeat every message whose provider call was in flight, since the provider has
it and the commit never happens. A deploy's SIGTERM need not: deliveries already past the
gate complete (provider call and commit), and deliveries arriving after it never start,
so their messages stay unacked and the broker hands them to another replica once this
process's connection closes.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator


class Drain:
    """Counts deliveries in flight; once closed, admits no more."""

    def __init__(self) -> None:
        self._closed = False
        self._busy = 0
        self._idle = asyncio.Event()
        self._idle.set()

    @contextlib.asynccontextmanager
    async def admit(self) -> AsyncIterator[None]:
        """Enter for one delivery; after `close`, wait here until the process ends."""
        if self._closed:
            await asyncio.Event().wait()
        self._busy += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._busy -= 1
            if self._busy == 0:
                self._idle.set()

    async def close(self, within_s: float) -> int:
        """Admit nothing more and wait for the deliveries in flight; returns how many remain."""
        self._closed = True
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._idle.wait(), within_s)
        return self._busy
