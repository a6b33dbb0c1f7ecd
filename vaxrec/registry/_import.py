"""Load a registry extract into registry.patients, contacts and immunizations."""

from __future__ import annotations

import asyncio
import contextlib
import gzip
import io
import multiprocessing
import os
import time
from collections import deque
from collections.abc import AsyncGenerator, AsyncIterator, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from pathlib import Path
from typing import IO, Any

import asyncpg

from vaxrec.db import Connection
from vaxrec.registry._batch import Parsed, Staged, stage
from vaxrec.registry._chunks import Chunk, csv_chunks, ndjson_chunks, parse_chunk
from vaxrec.registry._csv import read_csv
from vaxrec.registry._ndjson import read_ndjson
from vaxrec.registry._sql import ANALYZE_REGISTRY, COUNTS, DROP_STAGING, MERGE_BATCH, STAGING
from vaxrec.registry._summary import ImportSummary

__all__ = ["UnknownFormatError", "import_file", "import_records"]

BATCH_SIZE = 5_000
#: After these batches, and at the end if this many residents changed, the registry tables are
#: analyzed: geometric steps keep the planner's statistics current for a few ANALYZEs in all.
_ANALYZE_AFTER = frozenset({1, 4, 16, 64, 256, 1024})
_ANALYZE_CHANGES = 1_000
#: Below this size a file is parsed in-process: starting worker processes would cost more.
PARALLEL_FROM_BYTES = 4 << 20


class UnknownFormatError(ValueError):
    """The file's name does not say which extract format it holds."""


def default_workers() -> int:
    """Parsing processes: every core but one, which Postgres and this process share."""
    return max(1, min(8, (os.cpu_count() or 1) - 1))


@contextlib.asynccontextmanager
async def _connection(pool_or_dsn: asyncpg.Pool | str) -> AsyncIterator[Connection]:
    if isinstance(pool_or_dsn, str):
        conn = await asyncpg.connect(pool_or_dsn)
        try:
            yield conn
        finally:
            await conn.close()
    else:
        async with pool_or_dsn.acquire() as proxy:
            yield proxy


async def _copy(conn: Connection, table: str, rows: list[tuple[Any, ...]] | bytes) -> None:
    if not rows:
        return
    if isinstance(rows, bytes):
        await conn.copy_to_table(table, source=io.BytesIO(rows), format="text")
    else:
        await conn.copy_records_to_table(table, records=rows)


async def _merge(
    pool_or_dsn: asyncpg.Pool | str,
    batches: AsyncGenerator[Staged, None],
    summary: ImportSummary,
) -> None:
    # aclosing: on a failure the worker pool shuts down now, not when the generator is collected.
    async with contextlib.aclosing(batches), _connection(pool_or_dsn) as conn:
        await conn.execute(STAGING)
        merging: asyncio.Task[str] | None = None
        merged = 0
        try:
            async for batch in batches:
                summary.absorb(batch.rejected, batch.rejections, batch.warnings)
                if not batch.residents:
                    continue
                if merging is not None:
                    await merging
                    merged += 1
                    if merged in _ANALYZE_AFTER:
                        await conn.execute(ANALYZE_REGISTRY)
                await _copy(conn, "registry_stage_patients", batch.patients)
                await _copy(conn, "registry_stage_contacts", batch.contacts)
                await _copy(conn, "registry_stage_immunizations", batch.doses)
                # Sent now, awaited later: Postgres merges while the next batch is prepared.
                merging = asyncio.create_task(conn.execute(MERGE_BATCH))
                await asyncio.sleep(0)
            if merging is not None:
                await merging
                merging = None
            counts = await conn.fetchrow(COUNTS)
            assert counts is not None
            summary.loaded, summary.updated, summary.unchanged = counts
            if summary.loaded + summary.updated >= _ANALYZE_CHANGES:
                await conn.execute(ANALYZE_REGISTRY)
        finally:
            if merging is not None:
                merging.cancel()
                with contextlib.suppress(BaseException):
                    await merging
            if not conn.is_closed():
                with contextlib.suppress(asyncpg.PostgresError, OSError):
                    await conn.execute(DROP_STAGING)


async def _in_process(parsed: Iterable[Parsed], size: int) -> AsyncGenerator[Staged, None]:
    for batch in stage(parsed, size):
        yield batch


async def _in_workers(chunks: Iterator[Chunk], workers: int) -> AsyncGenerator[Staged, None]:
    # forkserver, not fork: forking a process that runs an event loop and threads is unsafe.
    context = multiprocessing.get_context("forkserver")
    pool = ProcessPoolExecutor(workers, mp_context=context)
    pending: deque[Future[Staged]] = deque()
    try:
        for chunk in chunks:
            pending.append(pool.submit(parse_chunk, chunk))
            # Bounded read-ahead: the file is never held in memory, however large.
            if len(pending) > workers:
                yield await asyncio.wrap_future(pending.popleft())
        while pending:
            yield await asyncio.wrap_future(pending.popleft())
    finally:
        pool.shutdown(wait=True, cancel_futures=True)


async def import_records(
    pool_or_dsn: asyncpg.Pool | str,
    parsed: Iterable[Parsed],
    *,
    batch_size: int = BATCH_SIZE,
) -> ImportSummary:
    """Load (line, record-or-error) pairs as a reader yields them, in this process."""
    summary = ImportSummary()
    started = time.perf_counter()
    await _merge(pool_or_dsn, _in_process(parsed, batch_size), summary)
    summary.seconds = time.perf_counter() - started
    return summary


def _format(path: Path) -> str:
    name = path.name.lower().removesuffix(".gz")
    if name.endswith((".ndjson", ".jsonl")):
        return "ndjson"
    if name.endswith(".csv"):
        return "csv"
    raise UnknownFormatError("the file name must end in .ndjson, .jsonl or .csv (optionally .gz)")


def _open(path: Path, fmt: str) -> IO[Any]:
    opener: Any = gzip.open if path.name.lower().endswith(".gz") else open
    if fmt == "ndjson":
        return opener(path, "rb")  # type: ignore[no-any-return]
    return opener(path, "rt", encoding="utf-8-sig", newline="")  # type: ignore[no-any-return]


async def import_file(
    pool_or_dsn: asyncpg.Pool | str,
    path: str | Path,
    *,
    batch_size: int = BATCH_SIZE,
    workers: int | None = None,
) -> ImportSummary:
    """Import an NDJSON (.ndjson, .jsonl) or CSV (.csv) extract, optionally gzipped.

    Each resident in the file replaces what the registry holds for that registry_id; residents
    whose content is already there are left untouched and counted as unchanged. Bad lines are
    listed with their line numbers and skipped. Batches commit one by one: a failure part way
    leaves the earlier batches loaded, and running the import again completes it.

    Files over a few megabytes are parsed by `workers` processes (default: cores - 1);
    workers=0 parses in this process. The workers start by forkserver, so a script that calls
    this must guard its entry point with `if __name__ == "__main__":`, as multiprocessing asks.
    """
    path = Path(path)
    fmt = _format(path)
    if workers is None:
        workers = default_workers() if path.stat().st_size >= PARALLEL_FROM_BYTES else 0
    summary = ImportSummary()
    started = time.perf_counter()
    with _open(path, fmt) as fp:
        batches: AsyncGenerator[Staged, None]
        if workers <= 0:
            parsed = read_ndjson(fp) if fmt == "ndjson" else read_csv(fp)
            batches = _in_process(parsed, batch_size)
        else:
            chunks = (
                ndjson_chunks(fp, batch_size) if fmt == "ndjson" else csv_chunks(fp, batch_size)
            )
            batches = _in_workers(chunks, workers)
        await _merge(pool_or_dsn, batches, summary)
    summary.seconds = time.perf_counter() - started
    return summary
