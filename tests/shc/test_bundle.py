from __future__ import annotations

import json
import zlib
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from tests.shc.builders import COVID_CVX_CODES, Vectors, many_doses, patient
from vaxrec.shc import (
    DoseData,
    PatientData,
    ShcError,
    build_bundle,
    build_payload,
    deflate,
    is_covid_cvx,
    minify,
)

FORBIDDEN = {"id", "meta", "text", "display", "protocolApplied", "doseNumberPositiveInt"}


def walk(node: Any, path: str = "") -> Iterator[tuple[str, str, Any]]:
    """(path, key, value) for every member of every object in the tree."""
    if isinstance(node, dict):
        for k, v in node.items():
            yield path, k, v
            yield from walk(v, f"{path}.{k}")
    elif isinstance(node, list):
        for i, v in enumerate(node):
            yield from walk(v, f"{path}[{i}]")


def test_payload_has_no_forbidden_or_empty_elements() -> None:
    doses = [*many_doses(5), DoseData("999", date(2024, 5, 1), lot_number="", performer="  ")]
    payload = build_payload(
        iss="https://records.example.org",
        bundle=build_bundle(patient(), doses),
        nbf=1_700_000_000,
        rid="abc",
        covid=True,
    )
    for path, key, value in walk(payload):
        # `display` is allowed only as performer.actor.display, the one text the IG keeps.
        if key == "display":
            assert path.endswith(".actor"), path
        else:
            assert key not in FORBIDDEN, f"{path}.{key}"
        assert value not in ("", [], {}, None), f"{path}.{key}"


def test_example_bundle_is_rebuilt_exactly(vectors: Vectors) -> None:
    source = [e["resource"] for e in vectors.json("example-00-a-fhirBundle.json")["entry"]]
    doses = [
        DoseData(
            cvx=r["vaccineCode"]["coding"][0]["code"],
            occurred_on=date.fromisoformat(r["occurrenceDateTime"]),
            lot_number=r["lotNumber"],
            performer=r["performer"][0]["actor"]["display"],
        )
        for r in reversed(source[1:])  # out of order on purpose: the bundle sorts by date
    ]
    bundle = build_bundle(patient(), doses)
    assert bundle == vectors.json("example-00-a-fhirBundle.json")


def test_references_and_full_urls_are_short_and_resolve() -> None:
    bundle = build_bundle(patient(), many_doses(4))
    urls = [e["fullUrl"] for e in bundle["entry"]]
    assert urls == [f"resource:{i}" for i in range(5)]
    refs = {r["resource"]["patient"]["reference"] for r in bundle["entry"][1:]}
    assert refs == {"resource:0"}
    assert bundle["entry"][0]["resource"] == {
        "resourceType": "Patient",
        "name": [{"family": "Anyperson", "given": ["John", "B."]}],
        "birthDate": "1951-01-20",
    }


def test_performer_and_lot_are_clipped_and_lot_labels_dropped() -> None:
    dose = DoseData(
        "208",
        date(2021, 3, 16),
        lot_number="Lot # EN6207-ABCDEFGHIJKLMNOP",
        performer="Kaiser Permanente Northern California",
    )
    (immunization,) = [e["resource"] for e in build_bundle(patient(), [dose])["entry"][1:]]
    assert immunization["lotNumber"] == "EN6207-ABCDEFGHIJKLM"
    assert len(immunization["lotNumber"]) <= 20
    assert immunization["performer"] == [{"actor": {"display": "Kaiser Permanente Northern Cal"}}]


def test_doses_are_sorted_by_date_and_options_drop_fields() -> None:
    doses = many_doses(3)[::-1]
    bundle = build_bundle(patient(), doses, include_performer=False, include_lot=False)
    immunizations = [e["resource"] for e in bundle["entry"][1:]]
    dates = [r["occurrenceDateTime"] for r in immunizations]
    assert dates == sorted(dates)
    assert all("performer" not in r and "lotNumber" not in r for r in immunizations)


def test_a_card_needs_a_dose() -> None:
    with pytest.raises(ShcError):
        build_bundle(patient(), [])


def test_single_name_patient_has_no_empty_given() -> None:
    bundle = build_bundle(PatientData("", "Madonna", date(1958, 8, 16)), many_doses(1))
    assert bundle["entry"][0]["resource"]["name"] == [{"family": "Madonna"}]


def test_payload_claims() -> None:
    bundle = build_bundle(patient(), many_doses(1))
    payload = build_payload(
        iss="https://a.example", bundle=bundle, nbf=1_700_000_000, rid=None, covid=False
    )
    assert payload["nbf"] == 1_700_000_000
    assert isinstance(payload["nbf"], int)
    assert payload["vc"]["type"] == [
        "https://smarthealth.cards#health-card",
        "https://smarthealth.cards#immunization",
    ]
    assert payload["vc"]["credentialSubject"] == {"fhirVersion": "4.0.1", "fhirBundle": bundle}
    assert "rid" not in payload["vc"]
    covid = build_payload(iss="https://a.example", bundle=bundle, nbf=1, rid="r", covid=True)
    assert covid["vc"]["type"][-1] == "https://smarthealth.cards#covid19"
    assert covid["vc"]["rid"] == "r"


def test_minify_is_compact_utf8_without_bom(vectors: Vectors) -> None:
    minified = vectors.minified("00")
    assert minify(json.loads(minified)) == minified
    assert minify({"name": "Zoë"}) == '{"name":"Zoë"}'.encode()


def test_deflate_is_raw_and_inflates_back(vectors: Vectors) -> None:
    for n in ("00", "01", "02", "03"):
        data = vectors.minified(n)
        packed = deflate(data)
        assert zlib.decompress(packed, -15) == data
        assert packed[:1] != b"\x78"
        assert packed[:2] != b"\x1f\x8b"
        with pytest.raises(zlib.error):
            zlib.decompress(packed)


def test_covid_codes() -> None:
    assert all(is_covid_cvx(c) for c in COVID_CVX_CODES)
    assert not any(is_covid_cvx(c) for c in ["03", "3", "141", "206", "999", "", "abc"])


@pytest.mark.parametrize(
    ("raw", "kept"),
    [
        ("Lot # EN6207", "EN6207"),
        ("LOT: A1", "A1"),
        ("lot no. 55", "55"),
        ("Lot Number 9Z", "9Z"),
        ("LOT-123", "LOT-123"),
        ("LOTX12", "LOTX12"),
        ("LOT NOVA1", "NOVA1"),
    ],
)
def test_lot_label_is_not_part_of_the_lot(raw: str, kept: str) -> None:
    bundle = build_bundle(patient(), [DoseData("208", date(2021, 3, 16), lot_number=raw)])
    assert bundle["entry"][1]["resource"]["lotNumber"] == kept
