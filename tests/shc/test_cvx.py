from __future__ import annotations

import pytest

from tests.shc.builders import COVID_CVX_CODES
from vaxrec.shc import vaccine_name


@pytest.mark.parametrize(
    ("code", "expected"),
    [
        ("207", "Moderna"),
        ("208", "Pfizer"),
        ("212", "Janssen"),
        ("206", "JYNNEOS"),
        ("03", "MMR"),
        ("3", "MMR"),
        ("187", "Shingrix"),
        ("511", "CoronaVac"),
    ],
)
def test_known_codes_name_the_product(code: str, expected: str) -> None:
    assert expected in vaccine_name(code)


@pytest.mark.parametrize("code", ["999", "", " ", "abc", "0"])
def test_unknown_codes_fall_back_without_raising(code: str) -> None:
    name = vaccine_name(code)
    assert name.startswith("Vaccine (CVX ")


def test_every_listed_code_has_a_distinct_readable_name() -> None:
    codes = [
        *COVID_CVX_CODES,
        "140",
        "141",
        "150",
        "158",
        "171",
        "185",
        "186",
        "197",
        "205",
        "206",
        "03",
        "115",
        "08",
        "43",
        "165",
        "187",
        "133",
        "152",
        "215",
        "216",
        "303",
        "304",
        "305",
        "306",
        "307",
    ]
    names = [vaccine_name(c) for c in codes]
    assert not any(n.startswith("Vaccine (CVX") for n in names)
    assert len(set(names)) == len(names)
