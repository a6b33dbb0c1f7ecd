"""What the resident sees of an opened card, read back from the card itself."""

from __future__ import annotations

import functools
from typing import Any

from services.viewer._cards import OpenedCard
from vaxrec.shc import decode_payload, qr_text, vaccine_name


@functools.lru_cache(maxsize=1024)
def record_view(card: OpenedCard) -> dict[str, Any]:
    """The JSON the API returns and the page renders: the card is the single source of truth.

    Cached per card (a frozen value, so a changed row is a new key), as the QR code already
    is: a resident's reloads and downloads decode the card once. Callers must not mutate it.
    """
    bundle = decode_payload(card.file_jws)["vc"]["credentialSubject"]["fhirBundle"]
    entries = [e["resource"] for e in bundle["entry"]]
    patient = entries[0]
    name = patient["name"][0]
    doses = []
    for imm in entries[1:]:
        code = imm["vaccineCode"]["coding"][0]["code"]
        performer = imm.get("performer", [{}])[0].get("actor", {}).get("display")
        doses.append(
            {
                "date": imm["occurrenceDateTime"],
                "cvx": code,
                "vaccine": vaccine_name(code),
                "lot": imm.get("lotNumber"),
                "performer": performer,
            }
        )
    return {
        "jws": card.jws,
        "qr": qr_text(card.jws),
        "patient": {
            "given": " ".join(name.get("given", [])),
            "family": name.get("family", ""),
            "birth_date": patient.get("birthDate"),
        },
        "doses": doses,
        "doses_total": card.doses_total,
        "doses_in_qr": card.doses_in_qr,
        "expires_at": card.expires_at.isoformat(),
    }
