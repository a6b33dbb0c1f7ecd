"""Issuing real cards for tests, through the signer's own handler."""

from __future__ import annotations

import json
import uuid
from datetime import date
from pathlib import Path

import asyncpg

from contracts import Contact, Dose, Envelope, RecordMatchedV1, RegistryPatient
from services.signer._issue import handle_record_matched
from services.signer._keys import KeyRing, add_key, load_keys
from services.signer._publish_keys import publish_public_keys
from services.signer._settings import SignerSettings
from services.signer._store import CardStore
from tests.support.builders import TEST_PEPPER, keyed_pin

ISSUER = "https://records.example.org"


def signer_settings(keys: Path, **overrides: object) -> SignerSettings:
    values: dict[str, object] = {
        "signer_keys": keys,
        "issuer": ISSUER,
        "pepper": TEST_PEPPER.decode(),
        "rid_secret": "test-rid-secret",
        "environment": "test",
    }
    values.update(overrides)
    return SignerSettings(**values)  # type: ignore[arg-type]


def key_ring(directory: Path) -> KeyRing:
    if not directory.exists():
        add_key(directory, activate=True)
    return load_keys(directory)


def record_matched(
    *, pin: str = "4829", doses: list[Dose] | None = None
) -> Envelope[RecordMatchedV1]:
    request_id = uuid.uuid4()
    data = RecordMatchedV1(
        request_id=request_id,
        patient=RegistryPatient(
            registry_id=f"TEST-{request_id.hex[:8]}",
            given_names="John",
            family_name="Doe",
            birth_date=date(1951, 8, 15),
        ),
        doses=doses
        or [
            Dose(cvx="208", occurred_on=date(2021, 2, 23), performer="KAISER PERMANENTE NCAL"),
            Dose(
                cvx="208",
                occurred_on=date(2021, 3, 16),
                lot_number="EN6207",
                performer="KAISER PERMANENTE NCAL",
            ),
        ],
        contact=Contact(channel="sms", address="+12135550100"),
        pin=keyed_pin(pin),
        language="en",
        match_reason="matched:exact",
    )
    return Envelope.first(data, request_id)


async def issue_card(
    pool: asyncpg.Pool, settings: SignerSettings, envelope: Envelope[RecordMatchedV1]
) -> str:
    """Issue the card and return the link token the resident would receive."""
    ring = load_keys(settings.signer_keys)
    await publish_public_keys(pool, ring)
    await handle_record_matched(envelope, store=CardStore(pool), keys=ring, settings=settings)
    body = await pool.fetchval(
        "SELECT body FROM cards.outbox WHERE convert_from(body, 'UTF8')::jsonb #>> "
        "'{data,request_id}' = $1",
        str(envelope.data.request_id),
    )
    token: str = json.loads(body)["data"]["link_token"]
    return token
