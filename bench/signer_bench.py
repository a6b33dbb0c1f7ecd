"""Signer benchmark: cards signed per second from the bus, beside the raw joserfc sign rate.

    .venv/bin/python bench/signer_bench.py [--cards 2000] [--prefetch 64]

One process runs the signer's real consumer and outbox relay against a throwaway database and
broker namespace; a second connection publishes record.matched.v1 messages. Throughput counts
until every card is committed and every card.issued.v1 is on the notifier's queue. A script,
not a test: it prints figures for the issue notes.
"""

from __future__ import annotations

import argparse
import asyncio
import functools
import resource
import secrets
import sys
import tempfile
import time
from pathlib import Path

import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from contracts import CardIssuedV1
from services.signer._issue import handle_record_matched
from services.signer._keys import add_key, load_keys
from services.signer._publish_keys import publish_public_keys
from services.signer._store import CardStore
from tests.support.broker import delete_namespace, topology_for_tests
from tests.support.cards import record_matched, signer_settings
from tests.support.servers import start_servers, throwaway_database
from vaxrec.bus import connect_bus
from vaxrec.db import create_pool
from vaxrec.logging import configure_logging
from vaxrec.outbox import OutboxRelay
from vaxrec.shc import (
    DoseData,
    PatientData,
    build_bundle,
    build_payload,
    fit_card,
    render_qr_svg,
    sign,
)


def raw_sign_rate(key: object, seconds: float = 2.0) -> float:
    envelope = record_matched()
    patient = envelope.data.patient
    bundle = build_bundle(
        PatientData(patient.given_names, patient.family_name, patient.birth_date),
        [DoseData(d.cvx, d.occurred_on, d.lot_number, d.performer) for d in envelope.data.doses],
    )
    payload = build_payload(
        iss="https://records.example.org", bundle=bundle, nbf=int(time.time()), rid=None, covid=True
    )
    count, started = 0, time.perf_counter()
    while time.perf_counter() - started < seconds:
        sign(payload, key)  # type: ignore[arg-type]
        count += 1
    return count / (time.perf_counter() - started)


async def all_issued_and_published(pool: asyncpg.Pool, cards: int) -> None:
    """The relay deletes a row only after the broker confirmed it, so an empty outbox with every
    card committed means every card.issued.v1 is on the notifier's queue."""
    query = (
        "SELECT (SELECT count(*) FROM cards.issued_cards) >= $1"
        " AND NOT EXISTS (SELECT 1 FROM cards.outbox)"
    )
    while True:
        if await pool.fetchval(query, cards):
            return
        await asyncio.sleep(0.02)


async def bus_rate(database_url: str, amqp_url: str, keys: Path, cards: int, prefetch: int) -> None:
    settings = signer_settings(keys)
    ring = load_keys(keys)
    namespace = f"vaxrec-bench-{secrets.token_hex(4)}"
    pool = await create_pool(database_url, size=10)
    signer = await connect_bus(amqp_url, topology_for_tests(namespace), prefetch=prefetch)
    producer = await connect_bus(amqp_url, topology_for_tests(namespace))
    try:
        await publish_public_keys(pool, ring)
        messages = [record_matched() for _ in range(cards)]
        for message in messages:  # queued before the consumer starts: measures draining
            await producer.publisher.publish(message)
        relay = OutboxRelay(pool, signer.publisher)
        cpu0, started = resource.getrusage(resource.RUSAGE_SELF), time.perf_counter()
        relay_task = asyncio.create_task(relay.run())
        await signer.consume(
            "signer",
            messages[0].data.__class__,
            functools.partial(
                handle_record_matched, store=CardStore(pool), keys=ring, settings=settings
            ),
        )
        await all_issued_and_published(pool, cards)
        elapsed = time.perf_counter() - started
        cpu1 = resource.getrusage(resource.RUSAGE_SELF)
        relay_task.cancel()
        committed = await pool.fetchval("SELECT count(*) FROM cards.issued_cards")
        issued_queue = topology_for_tests(namespace).queue("notifier", CardIssuedV1)
        channel = await producer.connection.channel()  # a fresh channel: a robust one caches
        queued = (await channel.declare_queue(issued_queue, passive=True)).declaration_result
        cpu = (cpu1.ru_utime - cpu0.ru_utime) + (cpu1.ru_stime - cpu0.ru_stime)
        print(f"cards from the bus:   {cards / elapsed:8.0f} cards/s  ({cards} in {elapsed:.2f} s)")
        print(f"signer process CPU:   {cpu / cards * 1000:8.2f} ms per card")
        print(
            f"cards committed:      {committed:8d}   card.issued.v1 queued: {queued.message_count}"
        )
        globals()["_bus_rate"] = cards / elapsed
    finally:
        await producer.close()
        await signer.close()
        await pool.close()
        await delete_namespace(amqp_url, namespace)


def qr_times(key: object) -> None:
    envelope = record_matched()
    patient = envelope.data.patient
    card = fit_card(
        PatientData(patient.given_names, patient.family_name, patient.birth_date),
        [DoseData(d.cvx, d.occurred_on, d.lot_number, d.performer) for d in envelope.data.doses],
        iss="https://records.example.org",
        nbf=int(time.time()),
        rid="abcdefghijk",
        key=key,  # type: ignore[arg-type]
    )
    started = time.perf_counter()
    render_qr_svg(card.jws)
    first = time.perf_counter() - started
    started = time.perf_counter()
    for _ in range(1000):
        render_qr_svg(card.jws)
    cached = (time.perf_counter() - started) / 1000
    print(f"QR SVG render:        {first * 1000:8.1f} ms first, {cached * 1e6:.1f} µs cached")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cards", type=int, default=2000)
    parser.add_argument("--prefetch", type=int, default=64)
    args = parser.parse_args()
    configure_logging("signer-bench", level="warning")  # a log line per card would be measured too
    with start_servers() as (db_server, broker), throwaway_database(db_server) as database_url:
        keys = Path(tempfile.mkdtemp()) / "keys"
        add_key(keys, activate=True)
        key = load_keys(keys).active
        raw = raw_sign_rate(key)
        print(f"raw joserfc sign:     {raw:8.0f} signatures/s (one core)")
        asyncio.run(bus_rate(database_url, broker.amqp_url, keys, args.cards, args.prefetch))
        rate = globals()["_bus_rate"]
        print(f"signer / raw:         {rate / raw * 100:8.1f} %  (target >= 25 %)")
        qr_times(key)


if __name__ == "__main__":
    main()
