"""record.requested.v1 → record.matched.v1 or record.unmatched.v1."""

from __future__ import annotations

import asyncpg
import structlog

from contracts import (
    Envelope,
    RecordMatchedV1,
    RecordRequestedV1,
    RecordUnmatchedV1,
    RegistryPatient,
)
from services.matcher._audit import AuditLog, AuditRow
from services.matcher._match import Outcome, find_person, normalized_contact
from services.matcher._metrics import MATCH_OUTCOMES

log = structlog.get_logger("matcher")


async def handle_record_requested(
    envelope: Envelope[RecordRequestedV1], *, pool: asyncpg.Pool, audit_log: AuditLog
) -> RecordMatchedV1 | RecordUnmatchedV1:
    request = envelope.data
    contact = normalized_contact(request.contact)
    if contact is None:
        outcome = Outcome("unmatched:invalid-contact")
    else:
        outcome = await find_person(
            pool,
            first_name=request.first_name,
            last_name=request.last_name,
            birth_date=request.date_of_birth,
            contact=contact,
        )
    tier = outcome.tier.label if outcome.tier is not None else None
    # Audit before publishing: a crash in between redelivers, and the row is kept as it is.
    await audit_log.record(AuditRow(request.request_id, outcome.reason, tier, outcome.registry_id))
    MATCH_OUTCOMES.labels(outcome.reason).inc()
    log.info("match.outcome", reason=outcome.reason, records=len(outcome.records))
    if not outcome.matched or contact is None:
        # The reason stays in the contract for operators; the notifier's text to the resident
        # is the same whatever the reason.
        return RecordUnmatchedV1(
            request_id=request.request_id,
            contact=contact or request.contact,
            language=request.language,
            reason=outcome.reason,
        )
    chosen = outcome.records[0]
    return RecordMatchedV1(
        request_id=request.request_id,
        patient=RegistryPatient(
            registry_id=chosen.registry_id,
            given_names=chosen.given_names,
            family_name=chosen.family_name,
            birth_date=chosen.birth_date,
        ),
        doses=outcome.doses,
        contact=contact,
        pin=request.pin,
        language=request.language,
        match_reason=outcome.reason,
    )
