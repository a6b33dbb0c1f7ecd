"""On SIGTERM, deliveries in flight finish and new ones never start."""

from __future__ import annotations

import asyncio
import contextlib

from services.notifier._drain import Drain


async def test_close_waits_for_deliveries_in_flight_and_admits_no_more() -> None:
    drain = Drain()
    release = asyncio.Event()
    finished: list[str] = []

    async def delivery(name: str) -> None:
        async with drain.admit():
            await release.wait()
            finished.append(name)

    in_flight = asyncio.create_task(delivery("in flight"))
    await asyncio.sleep(0)
    closing = asyncio.create_task(drain.close(within_s=5))
    await asyncio.sleep(0)
    late = asyncio.create_task(delivery("late"))
    await asyncio.sleep(0.01)
    assert not closing.done()
    release.set()
    assert await closing == 0
    await in_flight
    await asyncio.sleep(0.01)
    assert finished == ["in flight"]
    # The late one waits for the process to end; the broker hands its message to someone else.
    assert not late.done()
    late.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await late


async def test_close_gives_up_after_its_deadline() -> None:
    drain = Drain()
    stuck = asyncio.Event()

    async def delivery() -> None:
        async with drain.admit():
            await stuck.wait()

    task = asyncio.create_task(delivery())
    await asyncio.sleep(0)
    assert await drain.close(within_s=0.05) == 1
    task.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await task
