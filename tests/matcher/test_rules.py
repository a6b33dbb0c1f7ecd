"""The rules on their own: which rule names a record, ties, refusals (no database)."""

from __future__ import annotations

from datetime import date

import pytest

from services.matcher._nicknames import Nicknames, load_nicknames
from services.matcher._rules import Candidate, Typed, decide, swapped_day_month
from vaxrec.registry import name_key

BORN = date(1984, 3, 7)


def record(rid: str, given: str, family: str, born: date = BORN) -> Candidate:
    return Candidate(rid, given, family, born, name_key(given), name_key(family))


def reason(first: str, last: str, born: date, *records: Candidate) -> str | None:
    decision = decide(Typed(first, last, born), list(records), load_nicknames())
    return None if decision is None else decision.reason


@pytest.mark.parametrize(
    ("first", "last", "born", "given", "family", "expected"),
    [
        ("José", "García", BORN, "José", "García", "matched:exact"),
        (" José ", "García  ", BORN, "José", "García", "matched:exact"),
        ("JOSE", "garcia", BORN, "José", "García", "matched:normalized"),
        ("Mary Kate", "OBrien", BORN, "Mary-Kate", "O'Brien", "matched:normalized"),
        ("Jose", "Garcia-Lopez", BORN, "José", "García López", "matched:normalized"),
        ("Jose", "Lopez", BORN, "José", "García López", "matched:normalized:compound-surname"),
        ("Jose", "Garcia", BORN, "José", "García López", "matched:normalized:compound-surname"),
        ("Jose", "García López", BORN, "José", "López", "matched:normalized:compound-surname"),
        ("Maria", "Cruz", BORN, "Maria", "Dela Cruz", "matched:normalized:compound-surname"),
        ("Garcia", "Jose", BORN, "José", "García", "matched:normalized:swapped-names"),
        ("Juan", "Pérez", BORN, "Juan Carlos", "Pérez", "matched:normalized:middle-name"),
        ("Juan Carlos", "Pérez", BORN, "Juan", "Pérez", "matched:normalized:middle-name"),
        ("Jonh", "Smith", BORN, "John", "Smith", "matched:tolerant:typo-given"),
        ("Jhon", "Smith", BORN, "John", "Smith", "matched:tolerant:typo-given"),
        ("Jon", "Smith", BORN, "John", "Smith", "matched:tolerant:nickname"),
        ("Bill", "Smith", BORN, "William", "Smith", "matched:tolerant:nickname"),
        ("Bill", "Smith", BORN, "William Henry", "Smith", "matched:tolerant:nickname"),
        ("Pepe", "López", BORN, "José", "García López", "matched:tolerant:nickname"),
        ("John", "Smith", date(1984, 7, 3), "John", "Smith", "matched:tolerant:swapped-day-month"),
    ],
)
def test_each_rule(
    first: str, last: str, born: date, given: str, family: str, expected: str
) -> None:
    assert reason(first, last, born, record("R1", given, family)) == expected


@pytest.mark.parametrize(
    ("first", "last", "born", "given", "family"),
    [
        ("John", "Smith", date(1984, 3, 8), "John", "Smith"),  # another birth date
        ("John", "Smyth", BORN, "John", "Smith"),  # a typo in the family name is not tolerated
        ("Jonh", "Smith", date(1984, 7, 3), "John", "Smith"),  # typo and day/month together
        ("Jon", "Smyth", BORN, "John", "Smith"),  # nickname with another family name
        ("Al", "Smith", BORN, "Ali", "Smith"),  # too short to call it a typo
        ("Jim", "Smith", BORN, "Jimena", "Smith"),  # not a nickname, not one edit
        ("Jose", "de", BORN, "José", "de la Cruz"),  # a particle is no surname
        ("Mary", "Smith", BORN, "Anne Mary", "Smith"),  # only the first given name may stand alone
    ],
)
def test_no_rule(first: str, last: str, born: date, given: str, family: str) -> None:
    assert reason(first, last, born, record("R1", given, family)) is None


def test_stricter_tier_wins() -> None:
    # Twins on one contact: the one named as typed wins over the one a letter away.
    assert reason("Eric", "Lee", BORN, record("A", "Erik", "Lee"), record("B", "Eric", "Lee")) == (
        "matched:exact"
    )
    decision = decide(
        Typed("Eric", "Lee", BORN),
        [record("A", "Erik", "Lee"), record("B", "Eric", "Lee")],
        load_nicknames(),
    )
    assert decision is not None
    assert [c.registry_id for c in decision.records] == ["B"]


def test_two_people_at_the_best_tier_tie() -> None:
    twins = [record("A", "Aiden", "Lee"), record("B", "Ayden", "Lee")]
    decision = decide(Typed("Aden", "Lee", BORN), twins, load_nicknames())
    assert decision is not None
    assert decision.reason == "unmatched:tie"
    assert decision.tier is not None
    assert decision.tier.label == "tolerant"
    assert not decision.matched


def test_records_of_one_person_are_not_a_tie() -> None:
    copies = [record("B", "José", "García"), record("A", "JOSE", "GARCIA")]
    decision = decide(Typed("José", "García", BORN), copies, load_nicknames())
    assert decision is not None
    assert decision.reason == "matched:exact"
    assert [c.registry_id for c in decision.records] == ["A", "B"]


def test_relaxed_name_refused_when_someone_else_has_the_typed_name() -> None:
    # A son "David John" born on the typed date, a father "David" born another day: "David" with
    # the son's birth date may be the father with a mistyped date.
    son = record("S", "David John", "Carter", BORN)
    father = record("F", "David", "Carter", date(1955, 1, 2))
    assert reason("David", "Carter", BORN, son, father) == "unmatched:ambiguous"
    assert reason("David", "Carter", BORN, son) == "matched:normalized:middle-name"
    # The day/month rule keeps the name exact, so a namesake elsewhere does not matter.
    swapped = record("S", "David", "Carter", date(1984, 7, 3))
    assert reason("David", "Carter", BORN, swapped, father) == "matched:tolerant:swapped-day-month"


def test_no_candidates() -> None:
    assert decide(Typed("A", "B", BORN), [], load_nicknames()) is None


def test_swapped_day_month() -> None:
    assert swapped_day_month(date(2001, 3, 7)) == date(2001, 7, 3)
    assert swapped_day_month(date(2001, 3, 13)) is None
    assert swapped_day_month(date(2001, 5, 5)) is None
    assert Typed("a", "b", date(2001, 3, 13)).birth_dates() == [date(2001, 3, 13)]


def test_nickname_table_is_symmetric_and_links_no_nickname_to_another() -> None:
    table = Nicknames(["# comment", "", "William,Bill,Will", "Wilhelmina,Will"])
    assert table.related("william", "bill")
    assert table.related("bill", "william")
    assert table.related("will", "wilhelmina")
    assert not table.related("bill", "will")
    with pytest.raises(ValueError, match="line 1"):
        Nicknames(["william"])


def test_shipped_nickname_table() -> None:
    table = load_nicknames()
    assert len(table) > 300
    for formal, nickname in [("jose", "pepe"), ("guadalupe", "lupe"), ("robert", "bob")]:
        assert table.related(formal, nickname)
