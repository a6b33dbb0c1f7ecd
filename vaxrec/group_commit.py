"""Group commit: many callers' writes in one database round trip, each caller awaiting its own.

At hundreds of notifications a second the cost of a write is its round trip, not its work. So
one batch is in flight at a time; items that arrive while it runs go together in the next;
and each caller gets its own result only once its batch is committed, exactly as if it had
written alone. At low load a batch is a single item and nothing waits.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from typing import Generic, TypeVar

T = TypeVar("T")
R = TypeVar("R")

MAX_BATCH = 500


class BatchError(Exception):
    """The batch holding this item failed; the item was not written."""


class GroupCommit(Generic[T, R]):
    """Runs items through `write_batch`, one batch at a time."""

    def __init__(
        self, write_batch: Callable[[list[T]], Awaitable[Sequence[R]]], *, name: str
    ) -> None:
        self._write_batch = write_batch
        self._name = name
        self._waiting: list[tuple[T, asyncio.Future[R]]] = []
        self._writer: asyncio.Task[None] | None = None

    async def submit(self, item: T) -> R:
        """Write `item` with whatever else is waiting; its result once committed."""
        done: asyncio.Future[R] = asyncio.get_running_loop().create_future()
        self._waiting.append((item, done))
        if self._writer is None or self._writer.done():
            self._writer = asyncio.create_task(self._write_all(), name=self._name)
        return await done

    async def _write_all(self) -> None:
        batch: list[tuple[T, asyncio.Future[R]]] = []
        try:
            while self._waiting:
                batch, self._waiting = self._waiting[:MAX_BATCH], self._waiting[MAX_BATCH:]
                try:
                    results = await self._write_batch([item for item, _ in batch])
                except Exception as exc:
                    if len(batch) == 1:
                        _fail(batch, exc)
                        continue
                    # One item that cannot be written (a poison message's row) must not fail
                    # the others with it: retried in step with them, it could take them to
                    # the parking queue. So a failed batch is written again item by item.
                    for single in batch:
                        await self._write_alone(single)
                    continue
                _succeed(batch, results)
        except BaseException:
            # Cancelled at shutdown: nobody may be left waiting for a batch that will not run.
            for _, done in [*batch, *self._waiting]:
                done.cancel()
            self._waiting = []
            raise

    async def _write_alone(self, entry: tuple[T, asyncio.Future[R]]) -> None:
        try:
            results = await self._write_batch([entry[0]])
        except Exception as exc:
            _fail([entry], exc)
        else:
            _succeed([entry], results)


def _succeed(batch: list[tuple[T, asyncio.Future[R]]], results: Sequence[R]) -> None:
    for (_, done), result in zip(batch, results, strict=True):
        if not done.done():
            done.set_result(result)


def _fail(batch: list[tuple[T, asyncio.Future[R]]], exc: Exception) -> None:
    for _, done in batch:
        if not done.done():
            # One exception per caller: a shared one would collect every caller's traceback.
            error = BatchError(type(exc).__name__)
            error.__cause__ = exc
            done.set_exception(error)
