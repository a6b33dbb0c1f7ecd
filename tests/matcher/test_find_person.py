"""find_person against the real Postgres: every reason, households, duplicates, match keys."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import date

import asyncpg

from services.matcher import Outcome
from tests.matcher.conftest import Add
from vaxrec.registry import Immunization, import_records

Find = Callable[..., Awaitable[Outcome]]
BORN = date(1979, 4, 9)


async def test_each_tier_and_reason(add: Add, find: Find, phone: str) -> None:
    josé = await add("José Luis", "García López", BORN, phone=phone)
    cases = [
        (("José Luis", "García López", BORN), "matched:exact", "exact"),
        (("JOSE-LUIS", "Garcia-Lopez", BORN), "matched:normalized", "normalized"),
        (("José Luis", "López", BORN), "matched:normalized:compound-surname", "normalized"),
        (("García López", "José Luis", BORN), "matched:normalized:swapped-names", "normalized"),
        (("José", "García López", BORN), "matched:normalized:middle-name", "normalized"),
        (("Jsoé Luis", "García López", BORN), "matched:tolerant:typo-given", "tolerant"),
        (("Pepe", "García", BORN), "matched:tolerant:nickname", "tolerant"),
        (("José Luis", "García López", date(1979, 9, 4)), "matched:tolerant:swapped-day-month",
         "tolerant"),
    ]  # fmt: skip
    for (first, last, born), reason, tier in cases:
        outcome = await find(first, last, born, phone=phone)
        assert (outcome.reason, outcome.registry_id) == (reason, josé.registry_id), first
        assert outcome.tier is not None
        assert outcome.tier.label == tier
        assert [(d.cvx, d.occurred_on) for d in outcome.doses] == [("208", date(2021, 4, 1))]


async def test_unmatched_reasons(add: Add, find: Find, phone: str, email: str) -> None:
    await add("Ana", "Reyes", BORN, phone=phone)
    # The right person on another contact is counted apart from nobody at all.
    assert (await find("Ana", "Reyes", BORN, email=email)).reason == "unmatched:contact-mismatch"
    assert (await find("Ana", "Reyes", date(1979, 4, 10), phone=phone)).reason == (
        "unmatched:no-candidate"
    )
    assert (await find("Zelda", "Reyes", BORN, phone=phone)).reason == "unmatched:no-candidate"
    none = await find("Ana", "Reyes", date(1979, 4, 10), phone=phone)
    assert none.registry_id is None
    assert none.doses == []


async def test_a_record_without_doses_is_not_issued(add: Add, find: Find, phone: str) -> None:
    await add("Ana", "Reyes", BORN, phone=phone, doses=())
    assert (await find("Ana", "Reyes", BORN, phone=phone)).reason == "unmatched:no-doses"


async def test_twins(add: Add, find: Find, email: str) -> None:
    aiden = await add("Aiden", "Okafor", date(2012, 6, 1), email=email)
    ayden = await add("Ayden", "Okafor", date(2012, 6, 1), email=email)
    for twin in (aiden, ayden):
        outcome = await find(twin.given_names, "Okafor", date(2012, 6, 1), email=email)
        assert (outcome.reason, outcome.registry_id) == ("matched:exact", twin.registry_id)
    # One letter from both: either twin may have meant it, so neither gets a record.
    tie = await find("Aden", "Okafor", date(2012, 6, 1), email=email)
    assert (tie.reason, tie.registry_id) == ("unmatched:tie", None)


async def test_children_match_separately(add: Add, find: Find, phone: str) -> None:
    parent = await add("Minh", "Nguyễn", date(1980, 1, 20), phone=phone)
    kids = [
        await add("Linh", "Nguyễn", date(2010, 2, 3), phone=phone),
        await add("Bảo", "Nguyễn", date(2014, 11, 30), phone=phone),
    ]
    for person in (parent, *kids):
        outcome = await find(person.given_names, "Nguyen", person.birth_date, phone=phone)
        assert (outcome.reason, outcome.registry_id) == ("matched:normalized", person.registry_id)


async def test_sibling_or_parent_name_with_the_wrong_birth_date(
    add: Add, find: Find, phone: str
) -> None:
    await add("Mary", "Walsh", date(1975, 5, 17), phone=phone)
    await add("Mary Ann", "Walsh", date(2009, 8, 2), phone=phone)
    await add("Sean", "Walsh", date(2011, 1, 9), phone=phone)
    # A sibling's name with one's own birth date names nobody.
    assert (await find("Mary Ann", "Walsh", date(2011, 1, 9), phone=phone)).registry_id is None
    # "Mary" born on the daughter's day: the mother with a wrong date, or the daughter without
    # her middle name. Not guessed.
    refused = await find("Mary", "Walsh", date(2009, 8, 2), phone=phone)
    assert refused.reason == "unmatched:ambiguous"


async def test_duplicate_records_are_one_person(
    db: asyncpg.Pool, add: Add, find: Find, prefix: str, phone: str, email: str
) -> None:
    first = Immunization("207", date(2021, 3, 1), None, "CLINIC A")
    second = Immunization("207", date(2021, 3, 29), "LOT2", "CLINIC A")
    booster = Immunization("300", date(2023, 10, 2), "LOT9", "PHARMACY")
    # One provider recorded two doses with both contacts; another the second dose again (with
    # less detail), and a booster, with the email only.
    again = second._replace(lot_number=None)
    await add("Łukasz", "Kowalski", BORN, phone=phone, email=email, doses=(first, second),
              registry_id=f"{prefix}-0002")  # fmt: skip
    await add("LUKASZ", "KOWALSKI", BORN, email=email, doses=(again, booster),
              registry_id=f"{prefix}-0001")  # fmt: skip
    for contact in ({"phone": phone}, {"email": email}):
        outcome = await find("Lukasz", "Kowalski", BORN, **contact)
        assert outcome.reason == "matched:normalized"
        assert [(d.cvx, d.occurred_on, d.lot_number) for d in outcome.doses] == [
            ("207", date(2021, 3, 1), None),
            ("207", date(2021, 3, 29), "LOT2"),
            ("300", date(2023, 10, 2), "LOT9"),
        ]
    # The record named is stable: the lowest registry id of the person's records on the contact.
    assert (await find("Lukasz", "Kowalski", BORN, email=email)).registry_id == f"{prefix}-0001"
    assert (await find("Lukasz", "Kowalski", BORN, phone=phone)).registry_id == f"{prefix}-0002"


async def test_match_keys_follow_the_registry(
    db: asyncpg.Pool, add: Add, find: Find, phone: str, email: str
) -> None:
    record = await add("Priya", "Shah", BORN, phone=phone)
    assert (await find("Priya", "Shah", BORN, phone=phone)).matched
    # Re-imported with another name and contact: the old keys are gone, the new ones work.
    moved = record._replace(given_names="Priya", family_name="Mehta", phone=None, email=email)
    await import_records(db, [(1, moved)])
    assert (await find("Priya", "Shah", BORN, phone=phone)).reason == "unmatched:no-candidate"
    assert (await find("Priya", "Mehta", BORN, email=email)).reason == "matched:exact"
    # Corrected in place (not through the importer).
    await db.execute(
        "UPDATE registry.patients SET birth_date = $2 WHERE registry_id = $1",
        record.registry_id,
        date(1979, 4, 10),
    )
    assert (await find("Priya", "Mehta", date(1979, 4, 10), email=email)).matched
    await db.execute("DELETE FROM registry.patients WHERE registry_id = $1", record.registry_id)
    left = await db.fetchval(
        "SELECT count(*) FROM registry.match_keys WHERE registry_id = $1", record.registry_id
    )
    assert left == 0
