"""Matcher benchmark: lookup latency at scale, requests per second from the bus, size per million.

    .venv/bin/python bench/matcher_bench.py [--residents 1000000] [--requests 20000]
    .venv/bin/python bench/matcher_bench.py --residents 10000000   # ~20 min and ~10 GiB of disk

Generates and imports a synthetic registry into a throwaway database (dropped afterwards), then
times, one request at a time on one connection, the candidate query (the indexed lookup every
request makes) and the whole `find_person` (lookup, rules, the merged-doses query or the
contact-mismatch query). Requests are drawn from the registry: as recorded, re-cased and
without accents, with a one-letter typo in the given name, and with a wrong birth date.
Throughput runs the matcher's real consumer in this process against a throwaway broker
namespace, with the requests queued before it starts, until every answer is on the signer's or
the notifier's queue. A script, not a test: it prints figures for the issue notes.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import os
import random
import resource
import secrets
import statistics
import sys
import tempfile
import time
import unicodedata
import uuid
from datetime import date, timedelta
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contracts import (
    Contact,
    Envelope,
    RecordMatchedV1,
    RecordRequestedV1,
    RecordUnmatchedV1,
)
from services.matcher import find_person
from services.matcher._audit import AuditLog, candidates
from services.matcher._handler import handle_record_requested
from services.matcher._rules import Typed
from tests.support.broker import delete_namespace, topology_for_tests
from tests.support.builders import keyed_pin
from tests.support.servers import start_servers, throwaway_database
from vaxrec.bus import connect_bus
from vaxrec.db import create_pool
from vaxrec.logging import configure_logging
from vaxrec.registry import generate, import_file, write_ndjson

SIZE_QUERY = """
SELECT c.relname, pg_total_relation_size(c.oid)
FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE n.nspname = 'registry' AND c.relkind = 'r'
ORDER BY 1
"""
SAMPLE_QUERY = """
SELECT given_names, family_name, birth_date, kind, value
FROM registry.match_keys TABLESAMPLE SYSTEM ($1) REPEATABLE (7)
LIMIT $2
"""

Request = tuple[str, str, date, Contact]


def _plain(s: str) -> str:
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def _vary(rng: random.Random, row: asyncpg.Record) -> tuple[str, Request]:
    given, family, born = row["given_names"], row["family_name"], row["birth_date"]
    contact = Contact(channel="sms" if row["kind"] == "phone" else "email", address=row["value"])
    r = rng.random()
    if r < 0.6:
        return "as recorded", (given, family, born, contact)
    if r < 0.8:
        return "re-cased", (_plain(given).upper(), _plain(family).lower(), born, contact)
    if r < 0.9 and len(given) > 4:
        i = rng.randrange(1, len(given) - 2)
        typo = given[:i] + given[i + 1] + given[i] + given[i + 2 :]
        return "typo", (typo, family, born, contact)
    return "wrong birth date", (given, family, born + timedelta(days=rng.randint(20, 300)), contact)


async def load(url: str, residents: int, seed: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "registry.ndjson"
        started = time.perf_counter()
        with path.open("w", encoding="utf-8") as fp:
            write_ndjson(generate(residents, seed), fp)
        print(f"generate            {time.perf_counter() - started:8.1f} s")
        summary = await import_file(url, path)
        rate = summary.residents / summary.seconds * 60
        print(
            f"import              {summary.seconds:8.1f} s  ({rate:,.0f} residents/minute, "
            f"match keys kept by the 0005 triggers)"
        )
    conn = await asyncpg.connect(url)
    try:
        await conn.execute("VACUUM ANALYZE registry.match_keys, registry.patients")
    finally:
        await conn.close()


def _percentiles(label: str, seconds: list[float]) -> None:
    ms = sorted(s * 1000 for s in seconds)
    q = statistics.quantiles(ms, n=100)
    print(
        f"{label:<34} p50 {q[49]:6.3f} ms   p95 {q[94]:6.3f} ms   p99 {q[98]:6.3f} ms   "
        f"max {ms[-1]:6.2f} ms   (n={len(ms)})"
    )


async def latency(url: str, residents: int, requests: int) -> list[Request]:
    pool = await create_pool(url, size=1)
    try:
        fraction = min(100.0, requests * 3 / residents * 100)
        rows = await pool.fetch(SAMPLE_QUERY, fraction, requests)
        rng = random.Random(11)
        rng.shuffle(rows := list(rows))
        varied = [_vary(rng, row) for row in rows]
        lookup: list[float] = []
        whole: list[float] = []
        reasons: dict[str, int] = {}
        for n, (_, (first, last, born, contact)) in enumerate(varied):
            typed = Typed(first, last, born)
            started = time.perf_counter()
            await candidates(
                pool,
                contact_kind="phone" if contact.channel == "sms" else "email",
                contact_value=contact.address,
                birth_dates=typed.birth_dates(),
                given_key=typed.given_key,
            )
            middle = time.perf_counter()
            outcome = await find_person(
                pool, first_name=first, last_name=last, birth_date=born, contact=contact
            )
            ended = time.perf_counter()
            if n >= 200:  # warm-up: first touches of the indexes and the nickname table
                lookup.append(middle - started)
                whole.append(ended - middle)
            reasons[outcome.reason] = reasons.get(outcome.reason, 0) + 1
        _percentiles("candidate lookup (one query)", lookup)
        _percentiles("find_person (all queries + rules)", whole)
        print("  outcomes: " + ", ".join(f"{r} {n}" for r, n in sorted(reasons.items())))
        first, last, born, contact = varied[0][1]
        typed = Typed(first, last, born)
        plan = await pool.fetch(
            "EXPLAIN (ANALYZE, BUFFERS, COSTS OFF) SELECT * FROM registry.match_keys "
            "WHERE kind = $1 AND value = $2 AND birth_date = ANY($3::date[])",
            "phone" if contact.channel == "sms" else "email",
            contact.address,
            typed.birth_dates(),
        )
        print("  plan: " + " | ".join(r[0].strip() for r in plan[:3]))
        per_contact = await pool.fetchval(
            "SELECT avg(n) FROM (SELECT count(*) n FROM registry.match_keys "
            "WHERE kind = 'phone' GROUP BY value) x"
        )
        print(f"  synthetic residents per phone number: {per_contact:,.0f} (a few in real life)")
        return [r for _, r in varied]
    finally:
        await pool.close()


async def _answered(channel_factory: object, names: list[str]) -> int:
    channel = await channel_factory()  # type: ignore[operator]
    try:
        total = 0
        for name in names:
            declared = await channel.declare_queue(name, passive=True)
            total += declared.declaration_result.message_count or 0
        return total
    finally:
        await channel.close()


async def bus_rate(url: str, amqp_url: str, requests: list[Request], prefetch: int) -> None:
    namespace = f"vaxrec-bench-{secrets.token_hex(4)}"
    topology = topology_for_tests(namespace)
    pool = await create_pool(url, size=10)
    matcher = await connect_bus(amqp_url, topology, prefetch=prefetch)
    producer = await connect_bus(amqp_url, topology)
    try:
        for first, last, born, contact in requests:
            request_id = uuid.uuid4()
            data = RecordRequestedV1(
                request_id=request_id,
                first_name=first,
                last_name=last,
                date_of_birth=born,
                contact=contact,
                pin=keyed_pin(),
                language="en",
            )
            await producer.publisher.publish(Envelope.first(data, request_id))
        outputs = [
            topology.queue("signer", RecordMatchedV1),
            topology.queue("notifier", RecordUnmatchedV1),
        ]
        cpu0, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        await matcher.consume(
            "matcher",
            RecordRequestedV1,
            functools.partial(handle_record_requested, pool=pool, audit_log=AuditLog(pool)),
        )
        while True:
            if await _answered(producer.connection.channel, outputs) >= len(requests):
                break
            await asyncio.sleep(0.05)
        elapsed = time.perf_counter() - started
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        audited = await pool.fetchval("SELECT count(*) FROM matcher.match_audit")
        print(
            f"from the bus        {len(requests) / elapsed:8.0f} requests/s per process "
            f"(prefetch {prefetch}; {len(requests)} in {elapsed:.1f} s, {audited} audit rows); "
            f"matcher process CPU {cpu / len(requests) * 1000:.2f} ms a request"
        )
    finally:
        await producer.close()
        await matcher.close()
        await pool.close()
        await delete_namespace(amqp_url, namespace)


async def sizes(url: str, residents: int) -> None:
    conn = await asyncpg.connect(url)
    try:
        rows = await conn.fetch(SIZE_QUERY)
    finally:
        await conn.close()
    per = 1e6 / residents / 2**30
    total = sum(r[1] for r in rows)
    parts = ", ".join(f"{r[0]} {r[1] * per:.2f}" for r in rows)
    print(f"database size       {total * per:8.2f} GiB per million residents ({parts})")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--residents", type=int, default=1_000_000)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--requests", type=int, default=20_000, help="for latency")
    parser.add_argument("--bus-requests", type=int, default=5_000)
    parser.add_argument("--prefetch", type=int, default=64)
    args = parser.parse_args()
    configure_logging("matcher-bench", level="warning")  # a log line per request would be timed
    print(
        f"{args.residents:,} residents, {os.cpu_count()} cores, "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    with start_servers() as (db_server, broker), throwaway_database(db_server) as url:
        asyncio.run(load(url, args.residents, args.seed))
        asyncio.run(sizes(url, args.residents))
        requests = asyncio.run(latency(url, args.residents, args.requests))
        asyncio.run(bus_rate(url, broker.amqp_url, requests[: args.bus_requests], args.prefetch))
    print(f"load average at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
