"""record.matched.v1 → a signed card in issued_cards and card.issued.v1 in the outbox."""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime, timedelta

import structlog

from contracts import CardIssuedV1, Envelope, RecordMatchedV1
from services.signer._keys import KeyRing
from services.signer._metrics import CARDS_ISSUED
from services.signer._settings import SignerSettings
from services.signer._store import CardRow, CardStore
from vaxrec.hashing import new_link_token, token_hash
from vaxrec.shc import DoseData, PatientData, fit_card, rid

log = structlog.get_logger("signer")


async def handle_record_matched(
    envelope: Envelope[RecordMatchedV1],
    *,
    store: CardStore,
    keys: KeyRing,
    settings: SignerSettings,
) -> None:
    matched = envelope.data
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
        kid=kid,
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
    inserted = await store.insert(
        CardRow(
            card_id=card_id,
            request_id=matched.request_id,
            registry_id=matched.patient.registry_id,
            kid=kid,
            rid=card_rid,
            jws=card.jws,
            file_jws=None if card.full_jws == card.jws else card.full_jws,
            pin_hash=bytes.fromhex(matched.pin.hash),
            pin_salt=bytes.fromhex(matched.pin.salt),
            token_hash=token_hash(pepper, token),
            language=matched.language,
            doses_total=card.doses_total,
            doses_in_qr=card.doses_in_qr,
            expires_at=expires_at,
            issued=issued,
        )
    )
    if not inserted:
        # A redelivered request whose card exists was fully handled: its card.issued.v1 went
        # into the outbox in the same statement as the card. Signing again cost less than a
        # lookup on every first delivery would.
        log.info("card.already_issued")
        return None
    CARDS_ISSUED.labels(card.policy_step).inc()
    log.info(
        "card.issued",
        kid=kid,
        doses=card.doses_total,
        doses_in_qr=card.doses_in_qr,
        jws_chars=len(card.jws),
        size_policy=card.policy_step,
    )
    return None
