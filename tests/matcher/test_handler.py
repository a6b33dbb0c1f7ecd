"""The handler: the message it returns, the audit row and the counter, per request."""

from __future__ import annotations

from datetime import date

import asyncpg
from prometheus_client import REGISTRY

from contracts import Contact, RecordMatchedV1, RecordUnmatchedV1
from services.matcher._audit import AuditLog
from services.matcher._handler import handle_record_requested
from tests.matcher.conftest import Add
from tests.support.builders import record_requested

BORN = date(1990, 12, 24)


def counted(reason: str) -> float:
    return REGISTRY.get_sample_value("vaxrec_match_outcomes_total", {"reason": reason}) or 0.0


async def audit_row(db: asyncpg.Pool, request_id: object) -> list[asyncpg.Record]:
    return await db.fetch(
        "SELECT reason, tier, registry_id FROM matcher.match_audit WHERE request_id = $1",
        request_id,
    )


async def test_matched(db: asyncpg.Pool, add: Add, phone: str) -> None:
    record = await add("Siobhán", "O'Brien", BORN, phone=phone)
    digits = phone.removeprefix("+1")
    envelope = record_requested(
        first_name="siobhan",
        last_name="OBrien",
        date_of_birth=BORN,
        contact=Contact(channel="sms", address=f"({digits[:3]}) {digits[3:6]}-{digits[6:]}"),
    )
    before = counted("matched:normalized")
    message = await handle_record_requested(envelope, pool=db, audit_log=AuditLog(db))
    assert isinstance(message, RecordMatchedV1)
    assert message.match_reason == "matched:normalized"
    assert message.patient.registry_id == record.registry_id
    assert message.patient.given_names == "Siobhán"
    assert message.contact == Contact(channel="sms", address=phone)
    assert counted("matched:normalized") == before + 1
    rows = await audit_row(db, envelope.data.request_id)
    assert [tuple(r) for r in rows] == [("matched:normalized", "normalized", record.registry_id)]
    # A redelivery decides again but keeps the first audit row.
    await handle_record_requested(envelope, pool=db, audit_log=AuditLog(db))
    assert len(await audit_row(db, envelope.data.request_id)) == 1


async def test_tie_is_counted_and_audited(db: asyncpg.Pool, add: Add, email: str) -> None:
    await add("Brian", "Mensah", date(2015, 3, 3), email=email)
    await add("Bryan", "Mensah", date(2015, 3, 3), email=email)
    envelope = record_requested(
        first_name="Bran",
        last_name="Mensah",
        date_of_birth=date(2015, 3, 3),
        contact=Contact(channel="email", address=f"  {email.upper()} "),
    )
    before = counted("unmatched:tie")
    message = await handle_record_requested(envelope, pool=db, audit_log=AuditLog(db))
    assert isinstance(message, RecordUnmatchedV1)
    assert message.reason == "unmatched:tie"
    assert message.contact == Contact(channel="email", address=email)
    assert counted("unmatched:tie") == before + 1
    rows = await audit_row(db, envelope.data.request_id)
    assert [tuple(r) for r in rows] == [("unmatched:tie", "tolerant", None)]


async def test_contact_mismatch_and_invalid_contact(db: asyncpg.Pool, add: Add, phone: str) -> None:
    await add("Kwame", "Mensah", BORN, phone=phone)
    elsewhere = record_requested(
        first_name="Kwame",
        last_name="Mensah",
        date_of_birth=BORN,
        contact=Contact(channel="email", address="kwame.somewhere.else@example.com"),
    )
    message = await handle_record_requested(elsewhere, pool=db, audit_log=AuditLog(db))
    assert isinstance(message, RecordUnmatchedV1)
    assert message.reason == "unmatched:contact-mismatch"
    invalid = record_requested(contact=Contact(channel="sms", address="555-0100"))
    message = await handle_record_requested(invalid, pool=db, audit_log=AuditLog(db))
    assert isinstance(message, RecordUnmatchedV1)
    assert message.reason == "unmatched:invalid-contact"
    rows = await audit_row(db, invalid.data.request_id)
    assert [tuple(r) for r in rows] == [("unmatched:invalid-contact", None, None)]
