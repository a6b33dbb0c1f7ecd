"""The synthetic registry: deterministic, varied, and faithful to the vaccines' real schedules."""

from __future__ import annotations

import io
from collections import Counter, defaultdict
from datetime import date

import pytest

from vaxrec.registry import (
    DEMO_RESIDENT,
    Immunization,
    RegistryRecord,
    generate,
    name_key,
    normalize_email,
    normalize_phone,
    write_csv,
    write_ndjson,
)
from vaxrec.registry._vaccines import COVID_CVX

BIVALENT = {"229", "230", "300", "301", "302"}
FORMULA_2023 = {"308", "309", "310", "311", "312", "313"}


@pytest.fixture(scope="module")
def sample() -> list[RegistryRecord]:
    return list(generate(20_000, 11))


def ndjson(records: object) -> str:
    out = io.StringIO()
    write_ndjson(records, out)  # type: ignore[arg-type]
    return out.getvalue()


def test_same_seed_same_bytes() -> None:
    assert ndjson(generate(3_000, 42)) == ndjson(generate(3_000, 42))
    csv_a, csv_b = io.StringIO(), io.StringIO()
    write_csv(generate(3_000, 42), csv_a)
    write_csv(generate(3_000, 42), csv_b)
    assert csv_a.getvalue() == csv_b.getvalue()


def test_other_seed_other_residents() -> None:
    assert ndjson(generate(100, 1)) != ndjson(generate(100, 2))


def test_count_is_exact_and_ids_unique(sample: list[RegistryRecord]) -> None:
    assert len(sample) == 20_000
    assert len({r.registry_id for r in sample}) == 20_000
    assert list(generate(0, 1)) == []
    assert [r.registry_id for r in generate(3, 1, include_demo=False, id_prefix="X")] == [
        "X-00000001",
        "X-00000002",
        "X-00000003",
    ]


def test_demo_resident_comes_first_exactly_as_documented(sample: list[RegistryRecord]) -> None:
    demo = sample[0]
    assert demo == DEMO_RESIDENT
    assert (demo.registry_id, demo.given_names, demo.family_name) == ("DEMO-0001", "John", "Doe")
    assert demo.birth_date == date(1951, 8, 15)
    assert normalize_phone(demo.phone or "") == "+12135550100"
    assert normalize_email(demo.email or "") == "john.doe@example.org"
    assert demo.immunizations == (
        Immunization("208", date(2021, 2, 23), None, "KAISER PERMANENTE NCAL"),
        Immunization("208", date(2021, 3, 16), "EN6207", "KAISER PERMANENTE NCAL"),
    )
    assert next(generate(5, 1, include_demo=False)).registry_id != "DEMO-0001"
    # Nobody else is John Doe born the same day, so the demo request matches one person.
    twins = [
        r
        for r in sample[1:]
        if (name_key(r.given_names), name_key(r.family_name), r.birth_date)
        == ("john", "doe", date(1951, 8, 15))
    ]
    assert twins == []


def test_names_cover_accents_hyphens_apostrophes_and_compounds(
    sample: list[RegistryRecord],
) -> None:
    names = [n for r in sample for n in (r.given_names, r.family_name)]
    families = [r.family_name for r in sample]
    assert sum(not n.isascii() for n in names) > 1_000
    for expected in ["José", "Nguyễn", "Zoë", "Müller", "O'Brien", "D'Angelo", "Mary-Kate"]:
        assert expected in names, expected
    assert any("O\u2019" in n for n in names)  # the typographic apostrophe too
    assert any("-" in f for f in families)
    assert any(" " in f and "-" not in f for f in families)  # García López
    assert any(n.isupper() for n in names)  # registries that store capitals
    assert len(set(families)) > 300


def test_contacts_are_fictional_and_valid(sample: list[RegistryRecord]) -> None:
    kinds = Counter((r.phone is not None, r.email is not None) for r in sample)
    assert kinds[(True, False)] > 0.3 * len(sample)
    assert kinds[(False, True)] > 0.2 * len(sample)
    assert 0.05 * len(sample) < kinds[(True, True)] < 0.3 * len(sample)
    for r in sample:
        if r.phone is not None:
            phone = normalize_phone(r.phone)
            # 555-0100..0199 is reserved for fiction: a demo never texts a real person.
            assert phone is not None, r.registry_id
            assert phone[5:10] == "55501", r.registry_id
        if r.email is not None:
            email = normalize_email(r.email)
            assert email is not None
            assert email.split("@")[1].endswith(("example.com", "example.org", "example.net"))
    assert any(r.phone and not r.phone.startswith("+") for r in sample)  # written as people do


def people(sample: list[RegistryRecord]) -> dict[tuple[str, str, date], list[RegistryRecord]]:
    found = defaultdict(list)
    for r in sample:
        found[(name_key(r.given_names), name_key(r.family_name), r.birth_date)].append(r)
    return found


def test_about_two_percent_are_recorded_twice(sample: list[RegistryRecord]) -> None:
    twice = [records for records in people(sample).values() if len(records) > 1]
    assert 0.01 * len(sample) < len(twice) < 0.03 * len(sample)
    for first, second, *_ in twice:
        # The second record holds the same person's doses or some of them.
        assert set(second.immunizations) <= set(first.immunizations) or set(
            first.immunizations
        ) <= set(second.immunizations)
    assert any(a.given_names != b.given_names for a, b, *_ in twice)  # accents dropped, capitals


def test_doses_follow_the_products_and_dates(sample: list[RegistryRecord]) -> None:
    counts = Counter(len(r.immunizations) for r in sample)
    assert set(counts) == set(range(1, 8))
    codes = Counter(d.cvx for r in sample for d in r.immunizations)
    assert set(codes) == COVID_CVX
    once = [rs[0] for rs in people(sample).values() if len(rs) == 1]
    for r in sample:
        doses = r.immunizations
        days = [d.occurred_on for d in doses]
        assert days == sorted(days), r.registry_id
        assert len({(d.cvx, d.occurred_on) for d in doses}) == len(doses)
        assert date(2020, 12, 14) <= days[0]
        assert days[-1] <= date(2024, 8, 31)
        assert all(d.occurred_on > r.birth_date for d in doses)
        for d in doses:
            if d.cvx in BIVALENT:
                assert d.occurred_on >= date(2022, 9, 1), r.registry_id
            if d.cvx in FORMULA_2023:
                assert d.occurred_on >= date(2023, 9, 1), r.registry_id
            assert d.status == "completed"
    for r in once:
        first, *rest = r.immunizations
        if rest and first.cvx == rest[0].cvx == "208":
            assert 21 <= (rest[0].occurred_on - first.occurred_on).days <= 28
        if rest and first.cvx == rest[0].cvx == "207":
            assert (rest[0].occurred_on - first.occurred_on).days == 28
    lots = [d.lot_number for r in sample for d in r.immunizations]
    assert 0.9 < sum(lot is not None for lot in lots) / len(lots) < 0.99
    providers = {d.performer for r in sample for d in r.immunizations}
    assert "KAISER PERMANENTE NCAL" in providers
    assert "LA COUNTY DPH" in providers
    assert any(p and p.startswith("CVS PHARMACY #") for p in providers)


def test_streams_without_building_a_list() -> None:
    stream = generate(10_000_000, 3)
    assert next(stream) == DEMO_RESIDENT
    assert next(stream).registry_id == "SYN-00000001"
