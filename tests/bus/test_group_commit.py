"""Group commit: concurrent callers share a write, each gets its own result or error."""

from __future__ import annotations

import asyncio

import pytest

from vaxrec.group_commit import BatchError, GroupCommit


async def test_callers_arriving_during_a_write_share_the_next_one() -> None:
    batches: list[list[int]] = []
    writing = asyncio.Event()

    async def write(items: list[int]) -> list[int]:
        batches.append(items)
        writing.set()
        await asyncio.sleep(0.01)
        return [i * 10 for i in items]

    group = GroupCommit(write, name="test")
    first = asyncio.create_task(group.submit(0))
    await writing.wait()
    # The first caller did not wait for company; everyone arriving meanwhile goes next, together.
    results = await asyncio.gather(first, *(group.submit(i) for i in range(1, 50)))
    assert results == [i * 10 for i in range(50)]
    assert batches == [[0], list(range(1, 50))]


async def test_a_failed_write_fails_only_its_own_callers() -> None:
    async def write(items: list[int]) -> list[int]:
        await asyncio.sleep(0.01)
        if 0 in items:
            raise ConnectionResetError("database went away")
        return items

    group = GroupCommit(write, name="test")
    first = asyncio.create_task(group.submit(0))
    await asyncio.sleep(0)
    later = [asyncio.create_task(group.submit(i)) for i in range(1, 4)]
    with pytest.raises(BatchError, match="ConnectionResetError") as raised:
        await first
    assert isinstance(raised.value.__cause__, ConnectionResetError)
    assert await asyncio.gather(*later) == [1, 2, 3]


async def test_cancelling_the_writer_releases_every_caller() -> None:
    started = asyncio.Event()

    async def write(items: list[int]) -> list[int]:
        started.set()
        await asyncio.sleep(10)
        return items

    group = GroupCommit(write, name="test")
    callers = [asyncio.create_task(group.submit(i)) for i in range(3)]
    await started.wait()
    assert group._writer is not None
    group._writer.cancel()
    results = await asyncio.gather(*callers, return_exceptions=True)
    assert all(isinstance(r, asyncio.CancelledError) for r in results)
