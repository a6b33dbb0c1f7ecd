"""The card's content: a data-minimized FHIR Bundle, the JWT payload, minify and raw DEFLATE.

The Bundle follows the HL7 SMART Health Cards Vaccination IG data-minimization (DM) profiles:
a Patient with only `name` and `birthDate`, then one Immunization per completed dose, with
short `resource:N` references and none of id/meta/text/display/protocolApplied.
"""

from __future__ import annotations

import json
import re
import zlib
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

from vaxrec.shc._cvx import is_covid_cvx
from vaxrec.shc._errors import InvalidCard, ShcError

CVX_SYSTEM = "http://hl7.org/fhir/sid/cvx"
HEALTH_CARD = "https://smarthealth.cards#health-card"
IMMUNIZATION = "https://smarthealth.cards#immunization"
COVID19 = "https://smarthealth.cards#covid19"

# The IG asks (SHOULD) for a performer display within 30 characters and a lot within 20.
MAX_PERFORMER = 30
MAX_LOT = 20
# An inflated card is a few kB; anything near this is a zip bomb, not a card.
MAX_INFLATED = 1 << 20

# "Lot #", "LOT:" and the like are labels, not part of the lot (checklist pitfall 16).
_LOT_LABEL = re.compile(r"^\s*lot(?:\s*(?:#|no\.|no\b|number\b)\s*:?|\s*:|\s)\s*", re.IGNORECASE)


@dataclass(frozen=True)
class PatientData:
    """The resident as the card names them."""

    given_names: str
    family_name: str
    birth_date: date


@dataclass(frozen=True)
class DoseData:
    """One completed dose from the registry."""

    cvx: str
    occurred_on: date
    lot_number: str | None = None
    performer: str | None = None


def _clip(text: str | None, limit: int) -> str | None:
    if text is None:
        return None
    clipped = " ".join(text.split())[:limit].rstrip()
    return clipped or None


def _clean_lot(lot: str | None) -> str | None:
    if lot is None:
        return None
    return _clip(_LOT_LABEL.sub("", lot), MAX_LOT)


def _patient(patient: PatientData) -> dict[str, Any]:
    name: dict[str, Any] = {}
    if family := " ".join(patient.family_name.split()):
        name["family"] = family
    if given := patient.given_names.split():
        name["given"] = given
    resource: dict[str, Any] = {"resourceType": "Patient"}
    if name:
        resource["name"] = [name]
    resource["birthDate"] = patient.birth_date.isoformat()
    return resource


def _immunization(dose: DoseData, *, include_performer: bool, include_lot: bool) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Immunization",
        "status": "completed",
        "vaccineCode": {"coding": [{"system": CVX_SYSTEM, "code": dose.cvx.strip()}]},
        "patient": {"reference": "resource:0"},
        "occurrenceDateTime": dose.occurred_on.isoformat(),
    }
    if include_performer and (performer := _clip(dose.performer, MAX_PERFORMER)):
        resource["performer"] = [{"actor": {"display": performer}}]
    if include_lot and (lot := _clean_lot(dose.lot_number)):
        resource["lotNumber"] = lot
    return resource


def sort_doses(doses: Sequence[DoseData]) -> list[DoseData]:
    """Doses in date order (stable, so same-day doses keep the registry's order)."""
    return sorted(doses, key=lambda d: d.occurred_on)


def build_bundle(
    patient: PatientData,
    doses: Sequence[DoseData],
    *,
    include_performer: bool = True,
    include_lot: bool = True,
) -> dict[str, Any]:
    """The data-minimized FHIR Bundle: Patient at resource:0, one Immunization per dose."""
    if not doses:
        raise ShcError("a vaccination card needs at least one dose")
    resources = [_patient(patient)] + [
        _immunization(d, include_performer=include_performer, include_lot=include_lot)
        for d in sort_doses(doses)
    ]
    return {
        "resourceType": "Bundle",
        "type": "collection",
        "entry": [{"fullUrl": f"resource:{i}", "resource": r} for i, r in enumerate(resources)],
    }


def build_payload(
    *, iss: str, bundle: dict[str, Any], nbf: int, rid: str | None, covid: bool
) -> dict[str, Any]:
    """The JWT payload: iss, integer nbf and the verifiable credential around the Bundle."""
    types = [HEALTH_CARD]
    # The #immunization/#covid19 types are deprecated since spec 1.4.0, but verifiers still in
    # the field warn without them, so they cost a few bytes and save support calls.
    if any(e["resource"].get("resourceType") == "Immunization" for e in bundle["entry"]):
        types.append(IMMUNIZATION)
    if covid:
        types.append(COVID19)
    vc: dict[str, Any] = {
        "type": types,
        "credentialSubject": {"fhirVersion": "4.0.1", "fhirBundle": bundle},
    }
    if rid is not None:
        vc["rid"] = rid
    return {"iss": iss, "nbf": int(nbf), "vc": vc}


def bundle_is_covid(doses: Sequence[DoseData]) -> bool:
    return any(is_covid_cvx(d.cvx) for d in doses)


def minify(payload: dict[str, Any]) -> bytes:
    """Compact UTF-8 JSON, no BOM, no whitespace."""
    return json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode("utf-8")


def deflate(data: bytes) -> bytes:
    """Raw DEFLATE (RFC 1951) at level 9, without a zlib or gzip wrapper."""
    compressor = zlib.compressobj(9, zlib.DEFLATED, -15)
    return compressor.compress(data) + compressor.flush()


def looks_zlib_wrapped(data: bytes) -> bool:
    """Whether the bytes are a zlib (RFC 1950) stream rather than raw DEFLATE."""
    if len(data) < 2 or data[0] & 0x0F != 8 or (data[0] << 8 | data[1]) % 31:
        return False
    try:
        zlib.decompressobj(15).decompress(data, 64)
    except zlib.error:
        return False
    return True


def inflate(data: bytes, *, limit: int = MAX_INFLATED, wbits: int = -15) -> bytes:
    """Undo `deflate`, refusing output over `limit` bytes; wbits=15 reads a zlib stream."""
    if wbits == -15 and looks_zlib_wrapped(data):
        raise InvalidCard("zlib-wrapped", "payload has a zlib header; SHC needs raw DEFLATE")
    decompressor = zlib.decompressobj(wbits)
    try:
        out = decompressor.decompress(data, limit + 1)
    except zlib.error as err:
        raise InvalidCard("not-deflated", str(err)) from err
    if len(out) > limit:
        raise InvalidCard("too-large", f"payload inflates past {limit} bytes")
    if not decompressor.eof:
        raise InvalidCard("not-deflated", "truncated DEFLATE stream")
    return out
