"""Cutting an extract into chunks that worker processes parse while Postgres merges."""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from vaxrec.registry._batch import Parsed, Staged, stage
from vaxrec.registry._csv import Row, csv_residents, csv_rows
from vaxrec.registry._ndjson import read_ndjson

__all__ = ["Chunk", "CsvChunk", "NdjsonChunk", "csv_chunks", "ndjson_chunks", "parse_chunk"]


@dataclass(frozen=True)
class NdjsonChunk:
    """Raw lines, the first of them numbered `start` in the file."""

    start: int
    lines: list[bytes]


@dataclass(frozen=True)
class CsvChunk:
    """CSV rows with their line numbers, whole residents only."""

    rows: list[Row]


Chunk = NdjsonChunk | CsvChunk


def ndjson_chunks(lines: Iterable[bytes], size: int) -> Iterator[NdjsonChunk]:
    """Cut NDJSON into chunks of `size` lines (one resident a line)."""
    it, start = iter(lines), 1
    while block := list(itertools.islice(it, size)):
        yield NdjsonChunk(start, block)
        start += len(block)


def csv_chunks(lines: Iterable[str], size: int) -> Iterator[CsvChunk]:
    """Cut CSV into chunks of about `size` residents, never inside or next to a resident.

    A cut falls only between two good rows of different registry ids, so that csv_residents
    sees every run of a resident together with any broken rows around it.
    """
    # Rows are split here (the csv module is C and cheap); validating them is the workers' job.
    block: list[Row] = []
    residents, last, after_good = 0, None, False
    for line, row in csv_rows(lines):
        if isinstance(row, list) and row[0].strip() != last:
            if residents >= size and after_good:
                yield CsvChunk(block)
                block, residents = [], 0
            residents += 1
            last = row[0].strip()
        after_good = isinstance(row, list)
        block.append((line, row))
    if block:
        yield CsvChunk(block)


def parse_chunk(chunk: Chunk) -> Staged:
    """Parse and stage one chunk; runs in a worker process, so it returns COPY text."""
    parsed: Iterable[Parsed]
    if isinstance(chunk, NdjsonChunk):
        parsed, units = read_ndjson(chunk.lines, chunk.start), len(chunk.lines)
    else:
        parsed, units = csv_residents(chunk.rows), len(chunk.rows)
    # A chunk is one batch, so stage() yields once, or never for a chunk of blank lines.
    staged = next(stage(parsed, size=units + 1), Staged(b"", b"", b"", 0))
    return staged.as_copy_text()
