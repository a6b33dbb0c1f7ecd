"""record.matched.v1 → a signed card in issued_cards and card.issued.v1 in the outbox."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import asyncpg
import structlog

from contracts import CardIssuedV1, Envelope, RecordMatchedV1
from services.signer._keys import KeyRing
from services.signer._settings import SignerSettings
from vaxrec.hashing import new_link_token, token_hash
from vaxrec.outbox import add_to_outbox
from vaxrec.shc import DoseData, PatientData, fit_card, rid

log = structlog.get_logger("signer")

_INSERT_CARD = """
INSERT INTO cards.issued_cards (
    card_id, request_id, registry_id, kid, rid, jws, file_jws, pin_hash, pin_salt, token_hash,
    language, doses_total, doses_in_qr, expires_at
) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
ON CONFLICT (request_id) DO NOTHING
RETURNING card_id
"""


async def handle_record_matched(
    envelope: Envelope[RecordMatchedV1],
    *,
    pool: asyncpg.Pool,
    keys: KeyRing,
    settings: SignerSettings,
) -> None:
    matched = envelope.data
    # A redelivered request whose card exists was fully handled: its card.issued.v1 went into
    # the outbox in the same transaction as the card.
    if await pool.fetchval(
        "SELECT 1 FROM cards.issued_cards WHERE request_id = $1", matched.request_id
    ):
        log.info("card.already_issued")
        return None

    key = keys.active
    kid = keys.active_kid
    card_rid = rid(settings.rid_secret.get_secret_value(), kid, matched.patient.registry_id)
    card = fit_card(
        PatientData(
            given_names=matched.patient.given_names,
            family_name=matched.patient.family_name,
            birth_date=matched.patient.birth_date,
        ),
        [DoseData(d.cvx, d.occurred_on, d.lot_number, d.performer) for d in matched.doses],
        iss=settings.issuer,
        nbf=int(time.time()),
        rid=card_rid,
        key=key,
    )
    token = new_link_token()
    card_id = uuid.uuid4()
    expires_at = datetime.now(UTC) + timedelta(hours=settings.link_ttl_hours)
    pepper = settings.pepper.get_secret_value().encode()
    issued = envelope.caused(
        CardIssuedV1(
            request_id=matched.request_id,
            card_id=card_id,
            link_token=token,
            expires_at=expires_at,
            contact=matched.contact,
            language=matched.language,
        )
    )
    async with pool.acquire() as conn, conn.transaction():
        inserted = await conn.fetchval(
            _INSERT_CARD,
            card_id,
            matched.request_id,
            matched.patient.registry_id,
            kid,
            card_rid,
            card.jws,
            None if card.full_jws == card.jws else card.full_jws,
            bytes.fromhex(matched.pin.hash),
            bytes.fromhex(matched.pin.salt),
            token_hash(pepper, token),
            matched.language,
            card.doses_total,
            card.doses_in_qr,
            expires_at,
        )
        if inserted is None:
            return None  # a concurrent delivery of the same request won the race
        await add_to_outbox(conn, issued)
    log.info(
        "card.issued",
        kid=kid,
        doses=card.doses_total,
        doses_in_qr=card.doses_in_qr,
        jws_chars=len(card.jws),
        size_policy=card.policy_step,
    )
    return None
