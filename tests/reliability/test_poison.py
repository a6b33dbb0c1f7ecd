"""Poison messages on each running service's own queue: parked, never looping, never blocking.

Onto every consumer queue of the real matcher, signer and notifier go invalid JSON, an unknown
version and a schema violation (parked at once: retrying cannot make them valid) and a message
that fits the contract but fails in the handler every time (retried through the holding
queues, then parked), followed by a good message that must still be handled.
"""

from __future__ import annotations

import asyncio
import collections
import json
import secrets
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import aio_pika
import asyncpg
import pytest

from contracts import (
    CardIssuedV1,
    Contact,
    Contract,
    Dose,
    Envelope,
    RecordMatchedV1,
    RecordRequestedV1,
    RecordUnmatchedV1,
    RegistryPatient,
)
from services.signer._store import CardRow, CardStore
from tests.reliability.conftest import RETRY_DELAYS_MS
from tests.support.builders import keyed_pin
from tests.support.pipeline import contact_of, load_registry, queue_depths, wait_until
from tests.support.stack import Stack
from vaxrec.bus import ATTEMPT_HEADER, ERROR_HEADER, Topology
from vaxrec.group_commit import BatchError
from vaxrec.registry import RegistryRecord

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(120)]

NUL = "\x00"  # fits every contract, and no Postgres text column takes it


@pytest.fixture(scope="module")
def residents(module_database_url: str) -> list[RegistryRecord]:
    return asyncio.run(load_registry(module_database_url, 300, seed=23))


@dataclass(frozen=True)
class Poison:
    """One bad message and how it must end."""

    kind: str
    body: bytes
    retried: bool
    message_id: str = ""

    def with_id(self) -> Poison:
        return Poison(self.kind, self.body, self.retried, str(uuid.uuid4()))


def _patient(record: RegistryRecord) -> RegistryPatient:
    return RegistryPatient(
        registry_id=record.registry_id,
        given_names=record.given_names,
        family_name=record.family_name,
        birth_date=record.birth_date,
    )


def _contact(record: RegistryRecord) -> Contact:
    return Contact(channel="sms" if record.phone else "email", address=contact_of(record))


def good_message(contract: type[Contract], record: RegistryRecord) -> Envelope[Any]:
    """A valid message of `contract` about `record`: what each service handles every day."""
    request_id = uuid.uuid4()
    data: Contract
    if contract is RecordRequestedV1:
        data = RecordRequestedV1(
            request_id=request_id,
            first_name=record.given_names,
            last_name=record.family_name,
            date_of_birth=record.birth_date,
            contact=_contact(record),
            pin=keyed_pin(),
            language="en",
        )
    elif contract is RecordMatchedV1:
        data = RecordMatchedV1(
            request_id=request_id,
            patient=_patient(record),
            doses=[
                Dose(cvx=d.cvx, occurred_on=d.occurred_on, lot_number=d.lot_number)
                for d in record.immunizations
            ],
            contact=_contact(record),
            pin=keyed_pin(),
            language="en",
            match_reason="matched:exact",
        )
    elif contract is RecordUnmatchedV1:
        data = RecordUnmatchedV1(
            request_id=request_id,
            contact=_contact(record),
            language="en",
            reason="unmatched:no-candidate",
        )
    else:
        data = CardIssuedV1(
            request_id=request_id,
            card_id=uuid.uuid4(),
            link_token=secrets.token_urlsafe(32),
            expires_at=datetime.now(UTC) + timedelta(hours=24),
            contact=_contact(record),
            language="en",
        )
    return Envelope.first(data, request_id)


def failing_message(contract: type[Contract], record: RegistryRecord) -> Envelope[Any]:
    """Fits the contract, but a NUL in the names and contact fails the handler's SQL each time."""
    envelope = good_message(contract, record)
    raw = envelope.model_dump(mode="json")
    data = raw["data"]
    data["contact"]["address"] = f"x{NUL}@example.org"
    data["contact"]["channel"] = "email"
    if "first_name" in data:
        data["first_name"] = f"A{NUL}"
    if "patient" in data:
        data["patient"]["registry_id"] = f"SYN-{NUL}"
    return type(envelope).model_validate(raw)


def poisons(contract: type[Contract], record: RegistryRecord) -> list[Poison]:
    valid = good_message(contract, record).model_dump(mode="json")
    unknown_version = {**valid, "version": 2}
    violation = {**valid, "data": {**valid["data"], "request_id": "not-a-uuid"}}
    violation["data"].pop("contact")
    return [
        Poison("invalid JSON", b'{"message_id": "1", "data": {', retried=False).with_id(),
        Poison("unknown version", json.dumps(unknown_version).encode(), retried=False).with_id(),
        Poison("schema violation", json.dumps(violation).encode(), retried=False).with_id(),
        Poison(
            "fails every time",
            failing_message(contract, record).model_dump_json().encode(),
            retried=True,
        ).with_id(),
    ]


@pytest.fixture
async def channel(amqp_url: str) -> AsyncIterator[aio_pika.abc.AbstractChannel]:
    connection = await aio_pika.connect(amqp_url)
    try:
        yield await connection.channel(publisher_confirms=True)
    finally:
        await connection.close()


async def publish_to_queue(
    channel: aio_pika.abc.AbstractChannel, queue: str, body: bytes, message_id: str
) -> None:
    await channel.default_exchange.publish(
        aio_pika.Message(
            body,
            content_type="application/json",
            delivery_mode=aio_pika.DeliveryMode.PERSISTENT,
            message_id=message_id,
        ),
        routing_key=queue,
        mandatory=True,
    )


async def parked_messages(
    channel: aio_pika.abc.AbstractChannel, queue: str
) -> list[aio_pika.abc.AbstractIncomingMessage]:
    parking = await channel.get_queue(queue, ensure=False)
    taken = []
    while (message := await parking.get(no_ack=True, fail=False)) is not None:
        taken.append(message)
    return taken


def log_events(text: str) -> collections.Counter[str]:
    events: collections.Counter[str] = collections.Counter()
    for line in text.splitlines():
        if line.startswith("{"):
            events[json.loads(line).get("event", "")] += 1
    return events


async def test_poison_messages_are_parked_and_the_next_good_message_is_handled(
    stack: Stack,
    stack_db: asyncpg.Pool,
    residents: list[RegistryRecord],
    topology: Topology,
    amqp_url: str,
    channel: aio_pika.abc.AbstractChannel,
) -> None:
    sent_poison: dict[str, list[Poison]] = {}
    good: dict[str, Envelope[Any]] = {}
    for (queue, contract), record in zip(topology.consumer_queues(), residents, strict=False):
        sent_poison[queue] = poisons(contract, record)
        for poison in sent_poison[queue]:
            await publish_to_queue(channel, queue, poison.body, poison.message_id)
        good[queue] = good_message(contract, record)
        await publish_to_queue(
            channel, queue, good[queue].model_dump_json().encode(), str(good[queue].message_id)
        )

    # Every good message is handled all the way to a sent message, while the failing poison
    # of its queue is still waiting out its back-off: nothing blocks the queue behind it.
    request_ids = [envelope.correlation_id for envelope in good.values()]

    async def good_ones_sent() -> bool:
        count = await stack_db.fetchval(
            "SELECT count(DISTINCT request_id) FROM notify.deliveries "
            "WHERE request_id = ANY($1::uuid[]) AND state = 'sent'",
            request_ids,
        )
        return bool(count == len(request_ids))

    handled_s = await wait_until(good_ones_sent, within_s=60, what="the good messages sent")
    cards = await stack_db.fetchval(
        "SELECT count(*) FROM cards.issued_cards WHERE request_id = ANY($1::uuid[])", request_ids
    )
    # The record.requested and record.matched ones each issued a card.
    assert cards == 2

    expected = {topology.parking_queue(q): len(p) for q, p in sent_poison.items()}

    async def all_parked() -> bool:
        depths = await queue_depths(amqp_url, topology)
        return all(depths[q] == n for q, n in expected.items()) and not any(
            n for q, n in depths.items() if q not in expected
        )

    parked_s = await wait_until(all_parked, within_s=60, what="every poison message parked")
    budget_s = sum(RETRY_DELAYS_MS) / 1000

    for queue, sent in sent_poison.items():
        parked = await parked_messages(channel, topology.parking_queue(queue))
        by_id = {m.message_id: m for m in parked}
        assert sorted(by_id) == sorted(p.message_id for p in sent), queue
        for poison in sent:
            headers = by_id[poison.message_id].headers
            attempts = len(RETRY_DELAYS_MS) if poison.retried else 0
            assert headers[ATTEMPT_HEADER] == attempts, (queue, poison.kind)
            assert headers[ERROR_HEADER], (queue, poison.kind)
            assert by_id[poison.message_id].body == poison.body
        # The error header names the failure, never the message's content.
        assert all(NUL not in str(m.headers[ERROR_HEADER]) for m in parked)

    # Each failing message went round exactly the retry budget, then stopped.
    for service in ("matcher", "signer", "notifier"):
        events = log_events(stack.log_text(service))
        queues = [q for q in sent_poison if f".{service}." in q]
        assert events["message.retry"] == len(RETRY_DELAYS_MS) * len(queues), service
        assert events["message.retries_exhausted"] == len(queues), service
        assert events["message.parked"] == 4 * len(queues), service
        stack.wait_ready(service)

    print(
        f"\npoison: {sum(map(len, sent_poison.values()))} messages on {len(sent_poison)} queues "
        f"all parked ({parked_s:.1f} s; retry budget {budget_s:.1f} s); the good message after "
        f"them handled on every queue in {handled_s:.1f} s"
    )
    assert handled_s < budget_s or handled_s < 5


def card_row(kid: str, registry_id: str) -> CardRow:
    request_id = uuid.uuid4()
    issued = Envelope.first(
        CardIssuedV1(
            request_id=request_id,
            card_id=uuid.uuid4(),
            link_token=secrets.token_urlsafe(32),
            expires_at=datetime.now(UTC) + timedelta(hours=24),
            contact=Contact(channel="sms", address="+12135550100"),
            language="en",
        ),
        request_id,
    )
    return CardRow(
        card_id=issued.data.card_id,
        request_id=request_id,
        registry_id=registry_id,
        kid=kid,
        rid="rid",
        jws="header.payload.signature",
        file_jws=None,
        pin_hash=bytes(32),
        pin_salt=bytes(16),
        token_hash=secrets.token_bytes(32),
        language="en",
        doses_total=1,
        doses_in_qr=1,
        expires_at=issued.data.expires_at,
        issued=issued,
    )


async def test_a_poison_card_does_not_fail_the_cards_committed_with_it(
    stack: Stack, stack_db: asyncpg.Pool
) -> None:
    """Found by the test above under load: the signer group-commits cards, and a card that
    cannot be written failed its whole batch. Retried in step with it, a good request could
    share its batch every time and be parked with it."""
    del stack  # its signer published the key the cards are signed with
    kid = await stack_db.fetchval("SELECT kid FROM cards.issuer_keys LIMIT 1")
    store = CardStore(stack_db)
    good = [card_row(kid, f"SYN-GOOD-{i}") for i in range(3)]
    results = await asyncio.gather(
        store.insert(card_row(kid, f"SYN-{NUL}")),
        *(store.insert(row) for row in good),
        return_exceptions=True,
    )
    assert isinstance(results[0], BatchError)
    assert results[1:] == [True, True, True]
    written = await stack_db.fetchval(
        "SELECT count(*) FROM cards.issued_cards WHERE request_id = ANY($1::uuid[])",
        [row.request_id for row in good],
    )
    assert written == len(good)
