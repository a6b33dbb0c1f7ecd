"""Registry benchmark: generate rate, import and re-import rate, database size per million.

    .venv/bin/python bench/registry_bench.py [--residents 200000] [--format ndjson|csv]
                                             [--workers N]

Runs against a throwaway database on the server VAXREC_DATABASE_URL names (default: local), and
drops it afterwards. CPU seconds a resident are reported beside wall time: the whole machine's
(importer, its parsing workers and Postgres: run it on a quiet machine) and Postgres's own (all
its processes: backends, WAL writer, checkpointer), so that one can see which side limits.
"""

from __future__ import annotations

import argparse
import asyncio
import os
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


def _cpu_machine() -> float:
    """CPU seconds the whole machine has spent busy: the import's worker processes are the
    forkserver's children, not this process's, so they are counted this way."""
    fields = Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]
    busy = sum(int(f) for n, f in enumerate(fields[:8]) if n not in (3, 4))  # not idle, iowait
    return busy / os.sysconf("SC_CLK_TCK")


def _cpu_of(pid: int) -> float:
    """CPU seconds of a local process and its reaped children, or NaN if it is not local."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return float("nan")
    return sum(int(f) for f in fields[11:15]) / os.sysconf("SC_CLK_TCK")


def _postgres_cpu() -> float:
    """CPU seconds of every local Postgres process (backends come and go: the postmaster
    counts the ones that ended), or NaN if the server is not on this machine."""
    total, found = 0.0, False
    for proc in Path("/proc").glob("[0-9]*"):
        try:
            if (proc / "comm").read_text().strip() != "postgres":
                continue
        except OSError:
            continue
        cpu = _cpu_of(int(proc.name))
        if cpu == cpu:  # not NaN: it may have ended meanwhile
            total, found = total + cpu, True
    return total if found else float("nan")


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
    for label in ("import", "re-import"):
        cpu, pg, started = _cpu_machine(), _postgres_cpu(), time.perf_counter()
        summary = await import_file(url, path, workers=workers)
        seconds = time.perf_counter() - started
        cpu, pg = _cpu_machine() - cpu, _postgres_cpu() - pg
        per = 1e6 / residents
        print(
            f"{label:<18} {summary.residents / seconds * 60:>12,.0f} residents/minute  "
            f"{seconds:6.1f} s  (loaded {summary.loaded}, updated {summary.updated}, "
            f"unchanged {summary.unchanged}, rejected {summary.rejected}); CPU µs a resident: "
            f"whole machine {cpu * per:.0f}, of which postgres {pg * per:.0f}"
        )
        # With every core busy on the import and nothing else, this is as fast as it can go.
        cores = os.cpu_count() or 1
        print(
            f"{'':<18} {cores * 60 / cpu * residents:>12,.0f} residents/minute if all "
            f"{cores} cores did nothing else"
        )
    conn = await asyncpg.connect(url)
    size = int(await conn.fetchval(SIZE_QUERY))
    await conn.close()
    print(
        f"database size      {size / residents * 1e6 / 2**30:>12.2f} GiB per million residents "
        f"(patients, contacts, immunizations with their indexes)"
    )


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
