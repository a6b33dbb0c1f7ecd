"""Registry benchmark: generate rate, import and re-import rate, database size per million.

    .venv/bin/python bench/registry_bench.py [--residents 200000] [--format ndjson|csv]

Runs against a throwaway database on the server VAXREC_DATABASE_URL names (default: local), and
drops it afterwards. CPU seconds are reported beside wall time, split between this process, the
import's worker processes and the Postgres backend, so that numbers from a busy machine can still
be read: on a machine with N free cores, wall time tends to the largest of the three.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import secrets
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from vaxrec.migrate import apply_migrations, create_database, drop_database
from vaxrec.registry import generate, import_file, write_csv, write_ndjson
from vaxrec.registry._import import default_workers

SIZE_QUERY = """
SELECT sum(pg_total_relation_size(c.oid))
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'registry' AND c.relkind = 'r'
"""


def _cpu_self() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def _cpu_of(pid: int) -> float:
    """CPU seconds of a local process (the Postgres backend), or NaN if it is not local."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _throwaway_url() -> str:
    server = os.environ.get("VAXREC_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/vaxrec")
    parts = urlsplit(server)
    return urlunsplit(parts._replace(path=f"/vaxrec_bench_{secrets.token_hex(4)}"))


def bench_generate(residents: int, seed: int, fmt: str, path: Path) -> None:
    started = time.perf_counter()
    count = sum(1 for _ in generate(residents, seed))
    seconds = time.perf_counter() - started
    print(f"generate           {count / seconds:>12,.0f} residents/s  (records only)")
    started = time.perf_counter()
    with path.open("w", encoding="utf-8", newline="") as fp:
        (write_csv if fmt == "csv" else write_ndjson)(generate(residents, seed), fp)
    seconds = time.perf_counter() - started
    size = path.stat().st_size
    print(
        f"generate + {fmt:<7} {residents / seconds:>12,.0f} residents/s  "
        f"({size / residents:,.0f} bytes a resident, {size / 2**20:,.0f} MiB)"
    )


async def bench_import(url: str, path: Path, residents: int, workers: int) -> None:
    pool = await asyncpg.create_pool(url, min_size=1, max_size=1)
    assert pool is not None
    try:
        backend = int(await pool.fetchval("SELECT pg_backend_pid()"))
        for label in ("import", "re-import"):
            cpu, pg, started = _cpu_self(), _cpu_of(backend), time.perf_counter()
            summary = await import_file(pool, path, workers=workers)
            seconds = time.perf_counter() - started
            cpu, pg = _cpu_self() - cpu, _cpu_of(backend) - pg
            per = 1e6 / residents
            print(
                f"{label:<18} {summary.residents / seconds * 60:>12,.0f} residents/minute  "
                f"{seconds:6.1f} s  (loaded {summary.loaded}, updated {summary.updated}, "
                f"unchanged {summary.unchanged}, rejected {summary.rejected}); CPU µs a "
                f"resident: importer {cpu * per:.0f}, postgres {pg * per:.0f}"
            )
        size = int(await pool.fetchval(SIZE_QUERY))
        print(
            f"database size      {size / residents * 1e6 / 2**30:>12.2f} GiB per million residents "
            f"(patients, contacts, immunizations with their indexes)"
        )
    finally:
        await pool.close()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=200_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--format", choices=["ndjson", "csv"], default="ndjson")
    parser.add_argument("--workers", type=int, default=None, help="default: cores - 1")
    args = parser.parse_args()
    workers = default_workers() if args.workers is None else args.workers
    print(
        f"{args.residents:,} residents, {args.format}, {os.cpu_count()} cores, "
        f"{workers} parsing worker(s), load average {os.getloadavg()[0]:.1f}"
    )
    url = _throwaway_url()
    asyncio.run(create_database(url))
    try:
        apply_migrations(url)
        with tempfile.TemporaryDirectory() as tmp:
            path = Path(tmp) / f"registry.{args.format}"
            bench_generate(args.residents, args.seed, args.format, path)
            asyncio.run(bench_import(url, path, args.residents, workers))
    finally:
        asyncio.run(drop_database(url))
    print(f"load average at the end {os.getloadavg()[0]:.1f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
