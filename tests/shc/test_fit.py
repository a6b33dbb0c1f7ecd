from __future__ import annotations

from datetime import date

from joserfc.jwk import ECKey

from tests.shc.builders import many_doses, patient
from vaxrec.shc import DoseData, decode_payload, fit_card
from vaxrec.shc._jws import jws_length, key_id

ISS = "https://records.example.org"


def immunizations(token: str) -> list[dict[str, object]]:
    bundle = decode_payload(token)["vc"]["credentialSubject"]["fhirBundle"]
    return [e["resource"] for e in bundle["entry"][1:]]


def test_small_record_fits_whole(key: ECKey) -> None:
    card = fit_card(patient(), many_doses(3), iss=ISS, nbf=1_700_000_000, rid="r", key=key)
    assert card.policy_step == "full"
    assert card.jws == card.full_jws
    assert card.doses_in_qr == card.doses_total == 3
    assert all("performer" in r and "lotNumber" in r for r in immunizations(card.jws))


def test_forty_doses_with_long_performers_fit_one_qr(key: ECKey) -> None:
    doses = many_doses(40)
    card = fit_card(patient(), doses, iss=ISS, nbf=1_700_000_000, rid="r", key=key)
    assert len(card.jws) <= 1195
    assert card.doses_in_qr < card.doses_total == 40
    assert card.policy_step == "fewer-doses"
    kept = immunizations(card.jws)
    assert len(kept) == card.doses_in_qr
    dates = [r["occurrenceDateTime"] for r in kept]
    latest = max(d.occurred_on for d in doses).isoformat()
    first_two = sorted(d.occurred_on.isoformat() for d in doses)[:2]
    assert dates[-1] == latest
    assert dates[:2] == first_two
    assert len(immunizations(card.full_jws)) == 40
    assert "performer" in immunizations(card.full_jws)[0]


def test_policy_drops_performer_before_lot_before_doses(key: ECKey) -> None:
    seen: dict[str, int] = {}
    for count in range(4, 60, 3):
        card = fit_card(patient(), many_doses(count), iss=ISS, nbf=1, rid=None, key=key)
        seen.setdefault(card.policy_step, count)
        kept = immunizations(card.jws)
        if card.policy_step in {"no-performer", "no-lot", "fewer-doses"}:
            assert not any("performer" in r for r in kept)
        if card.policy_step in {"no-lot", "fewer-doses"}:
            assert not any("lotNumber" in r for r in kept)
        assert len(card.jws) <= 1195
    assert list(seen) == ["full", "no-performer", "no-lot", "fewer-doses"]


def test_kept_doses_are_as_many_as_fit(key: ECKey) -> None:
    card = fit_card(patient(), many_doses(60), iss=ISS, nbf=1, rid="r", key=key)
    # One more recent dose would not have fitted: the QR card is as full as the policy allows.
    assert 1195 - len(card.jws) < 40
    assert card.doses_in_qr > 3


def test_unknown_vaccine_code_issues(key: ECKey) -> None:
    card = fit_card(
        patient(), [DoseData("999", date(2024, 1, 2))], iss=ISS, nbf=1, rid=None, key=key
    )
    assert immunizations(card.jws)[0]["vaccineCode"] == {
        "coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "999"}]
    }
    assert decode_payload(card.jws)["vc"]["type"] == [
        "https://smarthealth.cards#health-card",
        "https://smarthealth.cards#immunization",
    ]


def test_size_estimate_is_exact(key: ECKey) -> None:
    from vaxrec.shc._bundle import build_bundle, build_payload, deflate, minify
    from vaxrec.shc._jws import sign

    for count in (1, 5, 20):
        payload = build_payload(
            iss=ISS, bundle=build_bundle(patient(), many_doses(count)), nbf=1, rid="r", covid=True
        )
        assert len(sign(payload, key)) == jws_length(key_id(key), len(deflate(minify(payload))))
