"""record.requested.v1 → record.matched.v1 or record.unmatched.v1."""

from __future__ import annotations

import asyncpg
import structlog

from contracts import (
    Contact,
    Envelope,
    RecordMatchedV1,
    RecordRequestedV1,
    RecordUnmatchedV1,
    RegistryPatient,
)
from services.matcher._lookup import exact_candidates, merged_doses
from vaxrec.registry import name_key, normalize_email, normalize_phone

log = structlog.get_logger("matcher")


def normalized_contact(contact: Contact) -> Contact | None:
    if contact.channel == "sms":
        phone = normalize_phone(contact.address)
        return Contact(channel="sms", address=phone) if phone else None
    email = normalize_email(contact.address)
    return Contact(channel="email", address=email) if email else None


async def handle_record_requested(
    envelope: Envelope[RecordRequestedV1], *, pool: asyncpg.Pool
) -> RecordMatchedV1 | RecordUnmatchedV1:
    request = envelope.data

    def unmatched(reason: str, contact: Contact) -> RecordUnmatchedV1:
        log.info("match.outcome", reason=reason)
        return RecordUnmatchedV1(
            request_id=request.request_id,
            contact=contact,
            language=request.language,
            reason=reason,
        )

    contact = normalized_contact(request.contact)
    if contact is None:
        return unmatched("unmatched:invalid-contact", request.contact)

    candidates = await exact_candidates(
        pool,
        given_key=name_key(request.first_name),
        family_key=name_key(request.last_name),
        birth_date=request.date_of_birth,
        contact_kind="phone" if contact.channel == "sms" else "email",
        contact_value=contact.address,
    )
    if not candidates:
        return unmatched("unmatched:no-candidate", contact)
    # Candidates here share every normalized key and the contact, so they are one person
    # recorded more than once; the lowest registry id names them (stable across requests).
    chosen = candidates[0]
    doses = await merged_doses(pool, [c.registry_id for c in candidates])
    if not doses:
        return unmatched("unmatched:no-doses", contact)
    reason = "matched:exact"
    log.info("match.outcome", reason=reason, records=len(candidates), doses=len(doses))
    return RecordMatchedV1(
        request_id=request.request_id,
        patient=RegistryPatient(
            registry_id=chosen.registry_id,
            given_names=chosen.given_names,
            family_name=chosen.family_name,
            birth_date=chosen.birth_date,
        ),
        doses=doses,
        contact=contact,
        pin=request.pin,
        language=request.language,
        match_reason=reason,
    )
