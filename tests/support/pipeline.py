"""Many residents' requests through a running stack, and what became of each of them.

Used by the reliability tests: a synthetic registry with residents whose contact is theirs
alone (so the per-contact limit never decides an outcome and a repeat can be told apart), the
request bodies that find them, and one query that says, per request, how many cards,
deliveries and development-outbox messages it produced.
"""

from __future__ import annotations

import asyncio
import collections
import time
import uuid
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import aio_pika
import aiohttp
import asyncpg

from vaxrec.bus import Topology
from vaxrec.registry import (
    RegistryRecord,
    generate,
    import_records,
    normalize_email,
    normalize_phone,
)

PIN = "4829"


def contact_of(record: RegistryRecord) -> str:
    if record.phone:
        return normalize_phone(record.phone) or record.phone
    return normalize_email(record.email or "") or (record.email or "")


async def load_registry(database_url: str, residents: int, seed: int) -> list[RegistryRecord]:
    """Import a synthetic registry; its residents whose contact no other resident shares."""
    records = list(generate(residents, seed))
    summary = await import_records(database_url, enumerate(records, 1))
    assert summary.rejected == 0, summary.rejections[:5]
    owners = collections.Counter(contact_of(r) for r in records if r.phone or r.email)
    return [r for r in records if (r.phone or r.email) and owners[contact_of(r)] == 1]


def body_for(record: RegistryRecord) -> dict[str, Any]:
    """The request a resident makes: their exact registry data and their contact."""
    body: dict[str, Any] = {
        "first_name": record.given_names,
        "last_name": record.family_name,
        "date_of_birth": record.birth_date.isoformat(),
        "pin": PIN,
        "consent": True,
        "language": "en",
    }
    if record.phone:
        body["phone"] = record.phone
    else:
        body["email"] = record.email
    return body


def nobody_body(i: int, tag: str) -> dict[str, Any]:
    """A request the registry cannot match, to an address of its own."""
    return {
        "first_name": "Nobody",
        "last_name": f"Unknown{tag}",
        "date_of_birth": "1970-01-01",
        "email": f"nobody.{tag}.{i}@example.org",
        "pin": PIN,
        "consent": True,
        "language": "en",
    }


async def submit(
    http: aiohttp.ClientSession,
    intake_url: str,
    bodies: Sequence[dict[str, Any]],
    *,
    accepted: list[uuid.UUID] | None = None,
    concurrency: int = 16,
) -> list[uuid.UUID]:
    """POST every body to intake (each must be accepted); the request ids.

    Each id is appended to `accepted` as soon as intake answers, so a caller can watch the
    requests in flight.
    """
    ids = accepted if accepted is not None else []
    slots = asyncio.Semaphore(concurrency)

    async def one(i: int) -> None:
        async with slots:
            for attempt in range(5):
                async with http.post(f"{intake_url}/api/v1/record-requests", json=bodies[i]) as r:
                    if r.status == 202:
                        ids.append(uuid.UUID((await r.json())["request_id"]))
                        return
                    # 503 means "not recorded, try again"; anything else is a failure.
                    assert r.status == 503, (r.status, await r.text())
                    assert attempt < 4, "intake kept answering 503"
                await asyncio.sleep(0.5)

    await asyncio.gather(*(one(i) for i in range(len(bodies))))
    return ids


@dataclass(frozen=True)
class Outcome:
    """What one request produced."""

    cards: int
    deliveries: int
    sent: int
    kinds: tuple[str, ...]
    outbox: int


_OUTCOMES = """
SELECT r.request_id,
       (SELECT count(*) FROM cards.issued_cards c WHERE c.request_id = r.request_id) AS cards,
       (SELECT count(*) FROM notify.deliveries d WHERE d.request_id = r.request_id)
           AS deliveries,
       (SELECT count(*) FROM notify.deliveries d
        WHERE d.request_id = r.request_id AND d.state = 'sent') AS sent,
       (SELECT coalesce(array_agg(d.kind ORDER BY d.kind), '{}') FROM notify.deliveries d
        WHERE d.request_id = r.request_id) AS kinds,
       (SELECT count(*) FROM notify.dev_outbox o JOIN notify.deliveries d USING (event_id)
        WHERE d.request_id = r.request_id) AS outbox
FROM unnest($1::uuid[]) AS r(request_id)
"""


async def outcomes(db: asyncpg.Pool, request_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, Outcome]:
    rows = await db.fetch(_OUTCOMES, list(request_ids))
    return {
        row["request_id"]: Outcome(
            row["cards"], row["deliveries"], row["sent"], tuple(row["kinds"]), row["outbox"]
        )
        for row in rows
    }


def ended_wrongly(results: dict[uuid.UUID, Outcome]) -> dict[uuid.UUID, Outcome]:
    """Requests that did not end with exactly one message and either one card or none (a
    not-found message)."""
    return {
        rid: o
        for rid, o in results.items()
        if not (o.deliveries == o.sent == o.outbox == 1)
        or (o.cards, o.kinds) not in ((1, ("card_issued",)), (0, ("unmatched",)))
    }


async def sent_count(db: asyncpg.Pool, request_ids: Sequence[uuid.UUID]) -> int:
    """How many of these requests have a sent notification."""
    count: int = await db.fetchval(
        "SELECT count(DISTINCT request_id) FROM notify.deliveries "
        "WHERE request_id = ANY($1::uuid[]) AND state = 'sent'",
        list(request_ids),
    )
    return count


async def wait_until(
    condition: Callable[[], Awaitable[bool]], *, within_s: float, what: str
) -> float:
    """Poll `condition` until it holds; the seconds it took. Fails after `within_s`."""
    started = time.monotonic()
    while not await condition():
        if time.monotonic() - started > within_s:
            raise AssertionError(f"{what}: not within {within_s} s")
        await asyncio.sleep(0.1)
    return time.monotonic() - started


async def queue_depths(amqp_url: str, topology: Topology) -> dict[str, int]:
    """Messages ready in every queue of the namespace (consumer, holding and parking queues)."""
    connection = await aio_pika.connect(amqp_url)
    try:
        channel = await connection.channel()
        depths = {}
        for name in topology.all_queues():
            queue = await channel.declare_queue(name, passive=True)
            depths[name] = queue.declaration_result.message_count or 0
        return depths
    finally:
        await connection.close()


def repeats_by_address(rows: Sequence[asyncpg.Record]) -> int:
    """Messages beyond the first to any one address."""
    counts = collections.Counter(row["to_address"] for row in rows)
    return sum(n - 1 for n in counts.values())
