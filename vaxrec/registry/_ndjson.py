"""NDJSON registry extracts: one resident a line, their record as a FHIR R4 collection Bundle."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any, TextIO

import orjson

from vaxrec.registry._model import Immunization, RegistryRecord
from vaxrec.registry._validate import (
    STATUSES,
    LineError,
    check_cvx,
    check_date,
    check_registry_id,
    optional_text,
    required_text,
)

__all__ = ["CVX_SYSTEM", "read_ndjson", "to_bundle", "write_ndjson"]

CVX_SYSTEM = "http://hl7.org/fhir/sid/cvx"


def _immunization(dose: Immunization, index: int) -> dict[str, Any]:
    resource: dict[str, Any] = {
        "resourceType": "Immunization",
        "status": dose.status,
        "vaccineCode": {"coding": [{"system": CVX_SYSTEM, "code": dose.cvx}]},
        "patient": {"reference": "resource:0"},
        "occurrenceDateTime": dose.occurred_on.isoformat(),
    }
    if dose.lot_number is not None:
        resource["lotNumber"] = dose.lot_number
    if dose.performer is not None:
        resource["performer"] = [{"actor": {"display": dose.performer}}]
    return {"fullUrl": f"resource:{index}", "resource": resource}


def to_bundle(record: RegistryRecord) -> dict[str, Any]:
    """The record as a FHIR R4 Bundle of type collection: one Patient, then its Immunizations."""
    patient = {
        "resourceType": "Patient",
        "id": record.registry_id,
        "name": [{"family": record.family_name, "given": record.given_names.split()}],
        "birthDate": record.birth_date.isoformat(),
    }
    entries = [{"fullUrl": "resource:0", "resource": patient}]
    entries += [_immunization(d, i) for i, d in enumerate(record.immunizations, 1)]
    return {"resourceType": "Bundle", "type": "collection", "entry": entries}


# write_ndjson spells out what json.dumps of {"registry_id", "phone", "email", "bundle":
# to_bundle(record)} writes, byte for byte (a test holds it to that), at a third of the cost:
# the generator streams ten million of these.
_string = json.encoder.encode_basestring
_DOSE = (
    ',"resource":{"resourceType":"Immunization","status":%s,"vaccineCode":{"coding":'
    '[{"system":"' + CVX_SYSTEM + '","code":%s}]},"patient":{"reference":"resource:0"},'
    '"occurrenceDateTime":"%s"'
)


def _json_line(r: RegistryRecord) -> str:
    parts = [
        '{"registry_id":',
        _string(r.registry_id),
        ',"phone":',
        "null" if r.phone is None else _string(r.phone),
        ',"email":',
        "null" if r.email is None else _string(r.email),
        ',"bundle":{"resourceType":"Bundle","type":"collection","entry":[{"fullUrl":"resource:0",'
        '"resource":{"resourceType":"Patient","id":',
        _string(r.registry_id),
        ',"name":[{"family":',
        _string(r.family_name),
        ',"given":[',
        ",".join(map(_string, r.given_names.split())),
        ']}],"birthDate":"',
        r.birth_date.isoformat(),
        '"}}',
    ]
    for i, d in enumerate(r.immunizations, 1):
        parts.append(f',{{"fullUrl":"resource:{i}"')
        parts.append(_DOSE % (_string(d.status), _string(d.cvx), d.occurred_on.isoformat()))
        if d.lot_number is not None:
            parts.append(',"lotNumber":' + _string(d.lot_number))
        if d.performer is not None:
            parts.append(',"performer":[{"actor":{"display":' + _string(d.performer) + "}}]")
        parts.append("}}")
    parts.append("]}}\n")
    return "".join(parts)


def write_ndjson(records: Iterable[RegistryRecord], fp: TextIO) -> int:
    """Write one JSON line per record; returns how many were written."""
    count = 0
    write = fp.write
    for record in records:
        write(_json_line(record))
        count += 1
    return count


def _object(value: object, what: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise LineError(f"{what} is not a JSON object")
    return value


def _list(value: object, what: str) -> list[Any]:
    if not isinstance(value, list):
        raise LineError(f"{what} is not a JSON array")
    return value


def _patient(resource: dict[str, Any], registry_id: str) -> tuple[str, str, date]:
    if "id" in resource and resource["id"] != registry_id:
        raise LineError("Patient.id differs from registry_id")
    names = _list(resource.get("name"), "Patient.name")
    if not names:
        raise LineError("Patient.name is empty")
    name = _object(names[0], "Patient.name[0]")
    family = required_text(name.get("family"), "Patient.name[0].family")
    given = _list(name.get("given", []), "Patient.name[0].given")
    given_names = " ".join(required_text(g, "Patient.name[0].given[]") for g in given)
    return given_names, family, check_date(resource.get("birthDate"), "Patient.birthDate")


def _dose(resource: dict[str, Any], n: int) -> Immunization:
    # Hot path: about four doses a line, ten million lines. Messages are built only on failure.
    status = resource.get("status")
    if status not in STATUSES:
        raise LineError(f"Immunization {n}: status is not one of {', '.join(sorted(STATUSES))}")
    vaccine_code = resource.get("vaccineCode")
    codings = vaccine_code.get("coding") if isinstance(vaccine_code, dict) else None
    if not isinstance(codings, list):
        raise LineError(f"Immunization {n}: vaccineCode.coding is missing")
    for coding in codings:
        if isinstance(coding, dict) and coding.get("system") == CVX_SYSTEM:
            cvx = check_cvx(coding.get("code"), f"Immunization {n}: CVX code")
            break
    else:
        raise LineError(f"Immunization {n}: vaccineCode has no CVX coding")
    when = resource.get("occurrenceDateTime")
    if isinstance(when, str) and len(when) > 10 and when[10] == "T":
        # A dateTime counts on the day it was written for; the registry keeps dates only.
        when = when[:10]
    occurred_on = check_date(when, f"Immunization {n}: occurrenceDateTime")
    lot = resource.get("lotNumber")
    if lot is not None:
        lot = optional_text(lot, f"Immunization {n}: lotNumber")
    performer = None
    performers = resource.get("performer")
    if performers:
        try:
            display = performers[0]["actor"].get("display")
        except (KeyError, TypeError, IndexError, AttributeError):
            raise LineError(
                f"Immunization {n}: performer is not [{{actor: {{display}}}}]"
            ) from None
        performer = optional_text(display, f"Immunization {n}: performer.actor.display")
    return Immunization(cvx, occurred_on, lot, performer, status)


def parse_line(line: str | bytes) -> RegistryRecord:
    """One NDJSON line as a record; raises LineError with a message that quotes no personal data."""
    try:
        # orjson: a third of the stdlib's time on a registry line, which is a tenth of an
        # import's CPU. It refuses what the stdlib would take and no extract should hold
        # (NaN, lone surrogates).
        data = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        if str(exc).startswith("depth limit"):
            raise LineError("not valid JSON (nested too deeply)") from None
        raise LineError(f"not valid JSON (column {exc.colno})") from None
    data = _object(data, "the line")
    if "registry_id" not in data or "bundle" not in data:
        raise LineError("not a registry record (needs registry_id and bundle)")
    registry_id = check_registry_id(data["registry_id"])
    phone = optional_text(data.get("phone"), "phone")
    email = optional_text(data.get("email"), "email")
    bundle = _object(data["bundle"], "bundle")
    if bundle.get("resourceType") != "Bundle":
        raise LineError("bundle is not a FHIR Bundle")
    patient: tuple[str, str, date] | None = None
    doses: list[Immunization] = []
    for entry in _list(bundle.get("entry"), "bundle.entry"):
        resource = entry.get("resource") if isinstance(entry, dict) else None
        if not isinstance(resource, dict):
            raise LineError("a bundle entry has no resource object")
        kind = resource.get("resourceType")
        if kind == "Patient":
            if patient is not None:
                raise LineError("bundle holds more than one Patient")
            patient = _patient(resource, registry_id)
        elif kind == "Immunization":
            doses.append(_dose(resource, len(doses) + 1))
        # Other resources (Observations, Encounters…) are not the registry's concern here.
    if patient is None:
        raise LineError("bundle holds no Patient")
    given, family, birth_date = patient
    return RegistryRecord(registry_id, given, family, birth_date, phone, email, tuple(doses))


def read_ndjson(
    lines: Iterable[str | bytes], start: int = 1
) -> Iterator[tuple[int, RegistryRecord | str]]:
    """Yield (line number, record) for each good line and (line number, error) for each bad one.

    Blank lines are skipped; `start` numbers the first line, for a chunk from inside a file.
    """
    for number, line in enumerate(lines, start):
        if not line.strip():
            continue
        try:
            yield number, parse_line(line)
        except LineError as exc:
            yield number, str(exc)
