"""Issuing cards against the real Postgres and RabbitMQ: exactly one card and one event."""

from __future__ import annotations

import asyncio
import json
import secrets
import zlib
from datetime import date
from pathlib import Path

import asyncpg
import pytest

from contracts import CardIssuedV1, Dose, Envelope
from services.signer._issue import handle_record_matched
from services.signer._keys import add_key, ensure_key, load_keys
from services.signer._metrics import CARDS_ISSUED
from services.signer._publish_keys import publish_public_keys
from services.signer._store import CardStore
from tests.support.broker import delete_namespace, topology_for_tests
from tests.support.builders import TEST_PEPPER
from tests.support.cards import ISSUER, issue_card, key_ring, record_matched, signer_settings
from vaxrec.bus import connect_bus
from vaxrec.hashing import pin_matches, token_hash
from vaxrec.outbox import OutboxRelay
from vaxrec.shc import decode_payload


async def _card(db: asyncpg.Pool, request_id: object) -> asyncpg.Record:
    row = await db.fetchrow("SELECT * FROM cards.issued_cards WHERE request_id = $1", request_id)
    assert row is not None
    return row


async def test_a_card_is_signed_stored_and_its_event_staged(
    db: asyncpg.Pool, tmp_path: Path
) -> None:
    key_ring(tmp_path / "keys")
    settings = signer_settings(tmp_path / "keys")
    envelope = record_matched()
    token = await issue_card(db, settings, envelope)
    card = await _card(db, envelope.data.request_id)
    # Only keyed hashes of the PIN and the token are stored.
    assert card["token_hash"] == token_hash(TEST_PEPPER, token)
    assert pin_matches(TEST_PEPPER, bytes(card["pin_salt"]), "4829", bytes(card["pin_hash"]))
    assert card["kid"] == load_keys(tmp_path / "keys").active_kid
    assert len(card["rid"]) == 11
    payload = decode_payload(card["jws"])
    assert payload["iss"] == ISSUER
    assert payload["vc"]["rid"] == card["rid"]
    assert card["doses_total"] == card["doses_in_qr"] == 2
    assert (card["expires_at"] - card["created_at"]).total_seconds() == pytest.approx(
        24 * 3600, abs=5
    )


async def test_redelivery_issues_no_second_card(db: asyncpg.Pool, tmp_path: Path) -> None:
    key_ring(tmp_path / "keys")
    settings = signer_settings(tmp_path / "keys")
    ring = load_keys(tmp_path / "keys")
    await publish_public_keys(db, ring)
    envelope = record_matched()
    store = CardStore(db)
    issued_before = CARDS_ISSUED.labels("full")._value.get()
    await asyncio.gather(
        *(
            handle_record_matched(envelope, store=store, keys=ring, settings=settings)
            for _ in range(4)
        )
    )
    assert (
        await db.fetchval(
            "SELECT count(*) FROM cards.issued_cards WHERE request_id = $1",
            envelope.data.request_id,
        )
        == 1
    )
    staged = await db.fetchval(
        "SELECT count(*) FROM cards.outbox WHERE convert_from(body, 'UTF8')::jsonb #>> "
        "'{data,request_id}' = $1",
        str(envelope.data.request_id),
    )
    assert staged == 1
    assert CARDS_ISSUED.labels("full")._value.get() == issued_before + 1  # counted once


async def test_a_large_record_still_issues_with_every_dose_in_the_file(
    db: asyncpg.Pool, tmp_path: Path
) -> None:
    key_ring(tmp_path / "keys")
    doses = [
        Dose(
            cvx="999" if i == 3 else ("208", "207", "229", "300")[i % 4],
            occurred_on=date(2000 + i // 12, 1 + i % 12, 1 + i % 28),
            lot_number=f"LOT{i:05d}XYZ",
            performer=f"A VERY LONG PHARMACY NAME NUMBER {i}",
        )
        for i in range(150)
    ]
    envelope = record_matched(doses=doses)
    await issue_card(db, signer_settings(tmp_path / "keys"), envelope)
    card = await _card(db, envelope.data.request_id)
    assert len(card["jws"]) <= 1195
    assert card["doses_total"] == 150
    assert card["doses_in_qr"] < 150
    file_bundle = decode_payload(card["file_jws"])["vc"]["credentialSubject"]["fhirBundle"]
    assert len(file_bundle["entry"]) == 151
    qr_bundle = decode_payload(card["jws"])["vc"]["credentialSubject"]["fhirBundle"]
    dates = [e["resource"]["occurrenceDateTime"] for e in qr_bundle["entry"][1:]]
    assert dates[-1] == max(d.occurred_on for d in doses).isoformat()


async def test_outbox_relay_publishes_and_deletes(
    db: asyncpg.Pool, tmp_path: Path, amqp_url: str
) -> None:
    key_ring(tmp_path / "keys")
    envelope = record_matched()
    await issue_card(db, signer_settings(tmp_path / "keys"), envelope)
    namespace = f"vaxrec-test-{secrets.token_hex(4)}"
    bus = await connect_bus(amqp_url, topology_for_tests(namespace))
    try:
        relay = OutboxRelay(db, bus.publisher)
        while await relay.relay_once():
            pass
        assert await db.fetchval("SELECT count(*) FROM cards.outbox") == 0
        queue = await bus.channel.get_queue(bus.topology.queue("notifier", CardIssuedV1))
        seen = []
        while (message := await queue.get(no_ack=True, fail=False)) is not None:
            seen.append(Envelope[CardIssuedV1].model_validate_json(message.body))
        mine = [m for m in seen if m.data.request_id == envelope.data.request_id]
        assert len(mine) == 1
        assert mine[0].causation_id == envelope.message_id
    finally:
        await bus.close()
        await delete_namespace(amqp_url, namespace)


async def test_rotation_keeps_old_keys_published(db: asyncpg.Pool, tmp_path: Path) -> None:
    directory = tmp_path / "keys"
    first, created = ensure_key(directory)
    assert created
    assert ensure_key(directory) == (first, False)
    second = add_key(directory, activate=True)
    ring = load_keys(directory)
    assert ring.active_kid == second
    await publish_public_keys(db, ring)
    states = dict(
        await db.fetch(
            "SELECT kid, state FROM cards.issuer_keys WHERE kid = ANY($1::text[])", [first, second]
        )
    )
    assert states == {first: "retired", second: "active"}
    private = json.loads((directory / f"{second}.json").read_text())
    assert "d" in private
    assert oct((directory / f"{second}.json").stat().st_mode & 0o777) == "0o600"


def test_payload_is_raw_deflate(tmp_path: Path) -> None:
    from vaxrec.shc import deflate

    data = deflate(b'{"a":1}')
    assert zlib.decompress(data, -15) == b'{"a":1}'
    assert data[:1] != b"\x78"
