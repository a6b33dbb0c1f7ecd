"""What a card says, read tolerantly from its payload: the patient and each dose."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from vaxrec.shc._bundle import CVX_SYSTEM
from vaxrec.shc._cvx import vaccine_name

_SYSTEM_LABELS = {
    "http://snomed.info/sct": "SNOMED",
    "http://id.who.int/icd/release/11/mms": "ICD-11",
    "http://id.who.int/icd11/mms": "ICD-11",
}


@dataclass(frozen=True)
class PatientView:
    """The person the card names: check it against photo ID, a card is not an ID."""

    name: str
    birth_date: str | None


@dataclass(frozen=True)
class DoseView:
    """One Immunization on the card; `counts` is False for a non-completed or subpotent dose."""

    date: str | None
    cvx: str | None
    vaccine: str
    lot: str | None
    performer: str | None
    counts: bool


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _first(value: Any) -> dict[str, Any]:
    return _dict(value[0]) if isinstance(value, list) and value else {}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) and value else None


def _resources(payload: dict[str, Any]) -> list[dict[str, Any]]:
    bundle = _dict(_dict(_dict(payload.get("vc")).get("credentialSubject")).get("fhirBundle"))
    entries = bundle.get("entry")
    if not isinstance(entries, list):
        return []
    return [_dict(_dict(e).get("resource")) for e in entries]


def _patient(resource: dict[str, Any]) -> PatientView:
    name = _first(resource.get("name"))
    given = name.get("given")
    parts = [g for g in given if isinstance(g, str)] if isinstance(given, list) else []
    if family := _str(name.get("family")):
        parts.append(family)
    text = " ".join(parts) or _str(name.get("text")) or ""
    return PatientView(name=text, birth_date=_str(resource.get("birthDate")))


def _dose(resource: dict[str, Any]) -> DoseView:
    codings = _dict(resource.get("vaccineCode")).get("coding")
    codings = [_dict(c) for c in codings] if isinstance(codings, list) else []
    cvx = next((_str(c.get("code")) for c in codings if c.get("system") == CVX_SYSTEM), None)
    if cvx is not None:
        vaccine = vaccine_name(cvx)
    elif codings:
        other = codings[0]
        label = _SYSTEM_LABELS.get(str(other.get("system")), "code")
        vaccine = f"Vaccine ({label} {other.get('code')})"
    else:
        vaccine = "Vaccine (no code)"
    return DoseView(
        date=_str(resource.get("occurrenceDateTime")),
        cvx=cvx,
        vaccine=vaccine,
        lot=_str(resource.get("lotNumber")),
        performer=_str(_dict(_first(resource.get("performer")).get("actor")).get("display")),
        counts=resource.get("status") == "completed" and resource.get("isSubpotent") is not True,
    )


def read_card(payload: dict[str, Any]) -> tuple[PatientView | None, list[DoseView]]:
    """The patient and the doses of a payload, skipping what is not there."""
    resources = _resources(payload)
    patient = next((_patient(r) for r in resources if r.get("resourceType") == "Patient"), None)
    doses = [_dose(r) for r in resources if r.get("resourceType") == "Immunization"]
    return patient, doses
