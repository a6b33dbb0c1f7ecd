"""One request against the registry: lookup, rules, doses. The service and `vaxrec registry
evaluate` both call `find_person`, so the evaluation measures exactly what runs."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import asyncpg

from contracts import Contact, Dose
from services.matcher._lookup import candidates, known_elsewhere, person_doses
from services.matcher._nicknames import load_nicknames
from services.matcher._rules import Candidate, Tier, Typed, decide
from vaxrec.registry import normalize_email, normalize_phone

__all__ = ["Outcome", "find_person", "normalized_contact"]


def normalized_contact(contact: Contact) -> Contact | None:
    """The contact as the registry stores it (E.164 phone, lower-case email), or None."""
    if contact.channel == "sms":
        phone = normalize_phone(contact.address)
        return Contact(channel="sms", address=phone) if phone else None
    email = normalize_email(contact.address)
    return Contact(channel="email", address=email) if email else None


@dataclass(frozen=True)
class Outcome:
    """What the matcher decided for one request."""

    reason: str
    tier: Tier | None = None
    #: The matched person's records on the contact, lowest registry id first.
    records: tuple[Candidate, ...] = ()
    doses: list[Dose] = field(default_factory=list)

    @property
    def matched(self) -> bool:
        return self.reason.startswith("matched:")

    @property
    def registry_id(self) -> str | None:
        return self.records[0].registry_id if self.matched else None


async def find_person(
    pool: asyncpg.Pool, *, first_name: str, last_name: str, birth_date: date, contact: Contact
) -> Outcome:
    """Decide one request; `contact` must already be normalized (see normalized_contact)."""
    typed = Typed(first_name, last_name, birth_date)
    found = await candidates(
        pool,
        contact_kind="phone" if contact.channel == "sms" else "email",
        contact_value=contact.address,
        birth_dates=typed.birth_dates(),
        given_key=typed.given_key,
    )
    decision = decide(typed, found, load_nicknames())
    if decision is None:
        elsewhere = await known_elsewhere(
            pool, birth_date=birth_date, family_key=typed.family_key, given_key=typed.given_key
        )
        return Outcome("unmatched:contact-mismatch" if elsewhere else "unmatched:no-candidate")
    if not decision.matched:
        return Outcome(decision.reason, decision.tier)
    doses = await person_doses(pool, decision.records)
    if not doses:
        return Outcome("unmatched:no-doses", decision.tier)
    return Outcome(decision.reason, decision.tier, decision.records, doses)
