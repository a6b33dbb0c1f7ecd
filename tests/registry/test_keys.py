"""Match-key normalization: the importer and the matcher must agree on every example."""

from __future__ import annotations

import random

import phonenumbers
import pytest

from vaxrec.registry import name_key, normalize_email, normalize_phone


@pytest.mark.parametrize(
    ("written", "key"),
    [
        ("José", "jose"),
        ("JOSÉ", "jose"),
        ("Nguyễn", "nguyen"),
        ("Zoë", "zoe"),
        ("Müller", "muller"),
        ("Mary-Kate", "marykate"),
        ("Mary Kate", "marykate"),
        ("mary\u2011kate", "marykate"),  # non-breaking hyphen
        ("O'Brien", "obrien"),
        ("O\u2019Brien", "obrien"),  # typographic apostrophe
        ("D'Angelo", "dangelo"),
        ("García López", "garcialopez"),
        ("Smith-Jones", "smithjones"),
        ("St. John", "stjohn"),
        ("Ma. Cristina", "macristina"),
        ("  Anne\tMarie \u00a0", "annemarie"),
        ("Đặng", "dang"),
        ("Łukasz", "lukasz"),
        ("Øyvind", "oyvind"),
        ("Straße", "strasse"),
        ("\ufb01ona", "fiona"),  # the "fi" ligature
        ("\u0130lhan", "ilhan"),  # capital I with dot above
        ("", ""),
    ],
)
def test_name_key(written: str, key: str) -> None:
    assert name_key(written) == key


def test_name_key_agrees_on_ascii_and_unicode_paths() -> None:
    # The ASCII fast path and the general path must give one answer for the same letters.
    for name in ["O'Brien", "Mary-Kate", "St. John", "de la Cruz"]:
        assert name_key(name) == name_key(name + "\u0301")  # a stray combining accent


@pytest.mark.parametrize(
    "written",
    [
        "+1 (213) 555-0100",
        "213.555.0100",
        "12135550100",
        "+12135550100",
        "(213) 555-0100",
        "213-555-0100",
        "1-213-555-0100",
        " +1 213 555 0100 ",
    ],
)
def test_phone_formats_are_one_number(written: str) -> None:
    assert normalize_phone(written) == "+12135550100"


@pytest.mark.parametrize(
    "written", ["", "abc", "555-0100", "+1 213 555", "213 555 01000 1", "+1 123 555 0100"]
)
def test_invalid_phone_is_none(written: str) -> None:
    assert normalize_phone(written) is None


def test_phone_outside_north_america() -> None:
    assert normalize_phone("+44 20 7946 0958") == "+442079460958"
    assert normalize_phone("+1 604 555 0100") == "+16045550100"  # Canada shares +1


def test_phone_fast_path_agrees_with_phonenumbers() -> None:
    def reference(s: str) -> str | None:
        try:
            number = phonenumbers.parse(s.strip(), "US")
        except phonenumbers.NumberParseException:
            return None
        if not phonenumbers.is_valid_number(number):
            return None
        return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)

    shapes = ["+1{}{}{}", "({}) {}-{}", "{}-{}-{}", "{}.{}.{}", "1{}{}{}", "{}{}{}", "+1 {} {} {}"]
    rng = random.Random(5)
    for _ in range(5_000):
        parts = (
            f"{rng.randrange(1000):03d}",
            f"{rng.randrange(1000):03d}",
            f"{rng.randrange(10000):04d}",
        )
        written = rng.choice(shapes).format(*parts)
        assert normalize_phone(written) == reference(written), written


@pytest.mark.parametrize(
    ("written", "normal"),
    [
        ("john.doe@example.org", "john.doe@example.org"),
        ("  John.Doe@Example.ORG \n", "john.doe@example.org"),
        ("a+tag@mail.example.com", "a+tag@mail.example.com"),
    ],
)
def test_email(written: str, normal: str) -> None:
    assert normalize_email(written) == normal


@pytest.mark.parametrize(
    "written",
    [
        "",
        "john",
        "john@",
        "@example.org",
        "john@example",
        "a b@example.org",
        "a@@b.org",
        "a@b..org",
    ],
)
def test_invalid_email_is_none(written: str) -> None:
    assert normalize_email(written) is None
