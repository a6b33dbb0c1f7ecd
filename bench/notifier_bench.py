"""Sends per second from one notifier process, and the memory it takes.

    .venv/bin/python bench/notifier_bench.py [--events 6000] [--prefetch 200] [--latency 0.2]
                                             [--channel sms|email]

Publishes the events first, then starts one `python -m services.notifier` against a local fake
Twilio (or SendGrid) that answers every request after `--latency` seconds, and measures from
the first accepted request to the last. Throughput comes from concurrency (the prefetch), not
from the speed of one call: at 200 ms a call, 500 sends/s needs about 100 calls in flight.
Uses the Postgres and RabbitMQ the tests use (VAXREC_TEST_DATABASE_URL / VAXREC_TEST_AMQP_URL,
else the local ones), in a throwaway database and broker namespace.
"""

from __future__ import annotations

import argparse
import asyncio
import secrets
import statistics
import sys
import tempfile
import time
from pathlib import Path

# A script, not a package: make the repository importable for the shared test fakes.
ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))


from contracts import Contact  # noqa: E402
from tests.notifier.conftest import card_issued_event  # noqa: E402
from tests.notifier.fakes import FakeSendGrid, FakeTwilio  # noqa: E402
from tests.notifier.process import NotifierProcess, notifier_env  # noqa: E402
from tests.support.broker import delete_topology  # noqa: E402
from tests.support.servers import start_servers  # noqa: E402
from vaxrec.bus import Topology, connect_bus  # noqa: E402
from vaxrec.migrate import apply_migrations, create_database, drop_database  # noqa: E402

RETRY_DELAYS_MS = (1000, 5000)


def rss_kib(pid: int) -> tuple[int, int]:
    """(current, peak) resident set size of a process, in KiB."""
    fields = dict(
        line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines()
    )
    return int(fields["VmRSS"].split()[0]), int(fields["VmHWM"].split()[0])


def cpu_seconds(pid: int) -> float:
    """User plus system CPU time a process has used."""
    stat = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(stat[11]) + int(stat[12])) / 100


async def publish(amqp_url: str, topology: Topology, count: int, channel: str) -> None:
    """`count` card.issued events, each to its own contact (so the contact limit stays out)."""
    bus = await connect_bus(amqp_url, topology, prefetch=1)
    try:
        contacts = [
            Contact(channel="sms", address=f"+1213{i:07d}")
            if channel == "sms"
            else Contact(channel="email", address=f"resident{i}@example.net")
            for i in range(count)
        ]
        events = [card_issued_event(contact) for contact in contacts]
        for start in range(0, count, 200):
            await asyncio.gather(*(bus.publisher.publish(e) for e in events[start : start + 200]))
    finally:
        await bus.close()


async def bench(args: argparse.Namespace, database_url: str, amqp_url: str) -> None:
    topology = Topology(f"vaxrec-bench-{secrets.token_hex(4)}", RETRY_DELAYS_MS)
    fake: FakeTwilio | FakeSendGrid = FakeTwilio() if args.channel == "sms" else FakeSendGrid()
    fake.delay_s = args.latency
    async with fake:
        try:
            print(f"publishing {args.events} card.issued events ({args.channel}) ...")
            await publish(amqp_url, topology, args.events, args.channel)
            env = notifier_env(
                database_url=database_url,
                amqp_url=amqp_url,
                namespace=topology.namespace,
                retry_delays_ms=RETRY_DELAYS_MS,
                extra={
                    **fake.env(),
                    "VAXREC_PREFETCH": str(args.prefetch),
                    "VAXREC_DB_POOL_SIZE": str(args.pool),
                },
            )
            with tempfile.TemporaryDirectory() as logs:
                process = NotifierProcess(env, Path(logs) / "notifier.log")
                await run_and_measure(args, process, fake)
        finally:
            await delete_topology(amqp_url, topology)


async def run_and_measure(
    args: argparse.Namespace, process: NotifierProcess, fake: FakeTwilio | FakeSendGrid
) -> None:
    started = time.monotonic()
    await process.start()
    samples: list[int] = []
    idle_rss = 0
    try:
        while len(fake.accepted) < args.events:
            if not process.running():
                raise RuntimeError(process.log.read_text()[-3000:])
            if time.monotonic() - started > args.events / 50 + 60:
                raise TimeoutError(f"only {len(fake.accepted)} sent")
            assert process.pid is not None
            if fake.received:
                samples.append(rss_kib(process.pid)[0])
            else:
                idle_rss = rss_kib(process.pid)[0]
            await asyncio.sleep(0.2)
        assert process.pid is not None
        peak = rss_kib(process.pid)[1]
        cpu = cpu_seconds(process.pid)
    finally:
        await process.stop()
    first = min(r.answered_at for r in fake.accepted)
    last = max(r.answered_at for r in fake.accepted)
    rate = (len(fake.accepted) - 1) / (last - first)
    print(
        f"{len(fake.accepted)} sent in {last - first:.1f} s: {rate:.0f} sends/s "
        f"(prefetch {args.prefetch}, provider latency {args.latency * 1000:.0f} ms, "
        f"{len(fake.received) - len(fake.accepted)} refused)\n"
        f"notifier RSS: {idle_rss / 1024:.0f} MiB idle, "
        f"{statistics.median(samples) / 1024:.0f} MiB median while sending, "
        f"{peak / 1024:.0f} MiB peak\n"
        f"notifier CPU: {cpu:.1f} s = {cpu / len(fake.accepted) * 1000:.2f} ms a message, "
        f"so about {len(fake.accepted) / cpu:.0f} sends/s per core it has to itself"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=6000)
    parser.add_argument("--prefetch", type=int, default=200)
    parser.add_argument("--pool", type=int, default=10, help="database pool size")
    parser.add_argument("--latency", type=float, default=0.2, help="provider answer delay (s)")
    parser.add_argument("--channel", choices=("sms", "email"), default="sms")
    args = parser.parse_args()
    with start_servers() as (db_server, broker_server):
        database_url = db_server.database_url(f"vaxrec_bench_{secrets.token_hex(4)}")
        asyncio.run(create_database(database_url))
        try:
            apply_migrations(database_url)
            asyncio.run(bench(args, database_url, broker_server.amqp_url))
        finally:
            asyncio.run(drop_database(database_url))


if __name__ == "__main__":
    main()
