"""NDJSON and CSV extracts: round trips, and bad lines reported by number without their data."""

from __future__ import annotations

import io
import json
from datetime import date

from vaxrec.registry import (
    Immunization,
    RegistryRecord,
    generate,
    read_csv,
    read_ndjson,
    to_bundle,
    write_csv,
    write_ndjson,
)


def records(n: int = 500) -> list[RegistryRecord]:
    return list(generate(n, 3, id_prefix="FMT"))


def test_ndjson_round_trip() -> None:
    out = io.StringIO()
    assert write_ndjson(records(), out) == 500
    lines = out.getvalue().splitlines()
    assert len(lines) == 500
    back = list(read_ndjson(lines))
    assert [n for n, _ in back] == list(range(1, 501))
    assert [r for _, r in back] == records()
    # Bytes read as well as text: the importer reads the file in binary.
    assert [r for _, r in read_ndjson(out.getvalue().encode().splitlines())] == records()


def test_ndjson_line_is_a_fhir_collection_bundle() -> None:
    line = json.loads(io_ndjson([records(1)[0]]))
    assert set(line) == {"registry_id", "phone", "email", "bundle"}
    bundle = line["bundle"]
    assert (bundle["resourceType"], bundle["type"]) == ("Bundle", "collection")
    patient = bundle["entry"][0]["resource"]
    assert patient == {
        "resourceType": "Patient",
        "id": "DEMO-0001",
        "name": [{"family": "Doe", "given": ["John"]}],
        "birthDate": "1951-08-15",
    }
    second = bundle["entry"][2]["resource"]
    assert second["resourceType"] == "Immunization"
    assert second["status"] == "completed"
    assert second["vaccineCode"] == {
        "coding": [{"system": "http://hl7.org/fhir/sid/cvx", "code": "208"}]
    }
    assert second["occurrenceDateTime"] == "2021-03-16"
    assert second["lotNumber"] == "EN6207"
    assert second["performer"] == [{"actor": {"display": "KAISER PERMANENTE NCAL"}}]
    assert "lotNumber" not in bundle["entry"][1]["resource"]


def io_ndjson(rs: list[RegistryRecord]) -> str:
    out = io.StringIO()
    write_ndjson(rs, out)
    return out.getvalue()


def test_csv_round_trip() -> None:
    out = io.StringIO()
    assert write_csv(records(), out) == 500
    text = out.getvalue()
    header, first = text.splitlines()[:2]
    assert header == (
        "registry_id,given_names,family_name,birth_date,phone,email,cvx,occurred_on,lot_number,performer"
    )
    assert first == (
        "DEMO-0001,John,Doe,1951-08-15,+12135550100,john.doe@example.org,208,2021-02-23,,"
        "KAISER PERMANENTE NCAL"
    )
    back = list(read_csv(io.StringIO(text)))
    assert [r for _, r in back] == records()
    assert back[1][0] == 4  # the second resident starts after the demo's two rows


def test_csv_resident_without_doses_and_quoted_fields() -> None:
    odd = RegistryRecord(
        "Q-1",
        'Anne, "Annie"',
        "O'Brien",
        date(1990, 1, 2),
        None,
        None,
        (),
    )
    multi = RegistryRecord(
        "Q-2",
        "José",
        "García López",
        date(1980, 5, 6),
        "(213) 555-0142",
        None,
        (Immunization("207", date(2021, 3, 1), None, 'CLINIC "A", LOS ANGELES'),),
    )
    out = io.StringIO()
    write_csv([odd, multi], out)
    assert [r for _, r in read_csv(io.StringIO(out.getvalue()))] == [odd, multi]


def test_dose_status_and_datetimes_are_read() -> None:
    resident = records(2)[1]
    bundle = to_bundle(resident)
    bundle["entry"][1]["resource"]["status"] = "entered-in-error"
    bundle["entry"][1]["resource"]["occurrenceDateTime"] = "2021-05-07T16:30:00-07:00"
    line = json.dumps(
        {"registry_id": resident.registry_id, "phone": None, "email": None, "bundle": bundle}
    )
    [(_, record)] = list(read_ndjson([line]))
    assert isinstance(record, RegistryRecord)
    assert record.immunizations[0].status == "entered-in-error"
    assert record.immunizations[0].occurred_on == date(2021, 5, 7)


def bad_ndjson_lines() -> list[str]:
    good = io_ndjson(records(3)).splitlines()
    patient = json.loads(good[1])

    def changed(path: list[str | int], value: object) -> str:
        doc = json.loads(good[1])
        target = doc
        for key in path[:-1]:
            target = target[key]
        if value is KeyError:
            del target[path[-1]]
        else:
            target[path[-1]] = value
        return json.dumps(doc, ensure_ascii=False)

    resource: list[str | int] = ["bundle", "entry", 0, "resource"]
    dose: list[str | int] = ["bundle", "entry", 1, "resource"]
    return [
        good[0],  # 1
        '{"registry_id": "X-1", "bundle": ',  # 2 bad JSON
        changed([*resource, "birthDate"], KeyError),  # 3 missing birthDate
        changed([*resource, "birthDate"], "1951-02-30"),  # 4 impossible date
        changed([*resource, "birthDate"], "15/08/1951"),  # 5 not ISO
        '{"resourceType": "Patient", "id": "X"}',  # 6 not an extract line
        "[1, 2, 3]",  # 7 not an object
        "",  # 8 blank: skipped silently
        changed([*dose, "occurrenceDateTime"], "2021-13-01"),  # 9
        changed([*dose, "vaccineCode"], {"coding": [{"system": "urn:other", "code": "x"}]}),  # 10
        changed([*resource, "id"], "SOMEONE-ELSE"),  # 11
        changed([*dose, "status"], "done"),  # 12
        changed(["registry_id"], ""),  # 13
        changed([*resource, "name"], [{"given": ["Only"]}]),  # 14 no family name
        changed([*resource, "name", 0, "family"], "Doe\u0000"),  # 15 NUL
        good[2],  # 16
        json.dumps(patient),  # 17 good, written with other spacing
    ]


def test_bad_ndjson_lines_are_reported_by_number() -> None:
    results = list(read_ndjson(bad_ndjson_lines()))
    errors = {n: m for n, m in results if isinstance(m, str)}
    assert sorted(errors) == [2, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 14, 15]
    assert [n for n, r in results if not isinstance(r, str)] == [1, 16, 17]
    assert "not valid JSON" in errors[2]
    assert errors[3] == "Patient.birthDate is missing"
    assert errors[4] == "Patient.birthDate is not a valid date"
    assert errors[5] == "Patient.birthDate is not a date (YYYY-MM-DD)"
    assert "not a registry record" in errors[6]
    assert "no CVX coding" in errors[10]
    assert "family" in errors[14]


def test_messages_quote_no_personal_data() -> None:
    lines = bad_ndjson_lines()
    person = records(3)[1]
    for _, message in read_ndjson(lines):
        if isinstance(message, str):
            for secret in (person.given_names, person.family_name, "1951", "SOMEONE", "Doe"):
                assert secret not in message


def test_bad_csv_rows_reject_their_resident_only() -> None:
    out = io.StringIO()
    write_csv(records(4), out)
    lines = out.getvalue().splitlines()
    # Line 1 header, 2-3 the demo, then three residents with one or more rows each.
    bad = list(lines)
    demo_second = bad[2].split(",")
    demo_second[7] = "2021-02-31"
    bad[2] = ",".join(demo_second)
    bad.insert(3, "")  # a blank line is skipped
    bad.append("TOO,FEW,FIELDS")
    results = list(read_csv(bad))
    assert results[0] == (3, "occurred_on is not a valid date")
    assert [r.registry_id for _, r in results[1:-1] if not isinstance(r, str)] == [
        "FMT-00000001",
        "FMT-00000002",
        "FMT-00000003",
    ]
    assert results[-1] == (len(bad), "has 3 fields, not 10")


def test_csv_rows_of_one_resident_must_agree() -> None:
    out = io.StringIO()
    write_csv(records(1), out)
    header, one, two = out.getvalue().splitlines()
    assert list(read_csv([header, one, two.replace("1951-08-15", "1951-08-16")])) == [
        (3, "disagrees with the resident's earlier rows on name, birth or contact")
    ]


def test_csv_with_another_header_is_refused() -> None:
    assert list(read_csv(["id,name\n", "1,x\n"])) == [
        (
            1,
            "header is not registry_id,given_names,family_name,birth_date,phone,email,cvx,"
            "occurred_on,lot_number,performer",
        )
    ]
    assert list(read_csv([])) == []


def test_csv_resident_split_by_a_broken_row_is_rejected_whole() -> None:
    out = io.StringIO()
    write_csv(records(3), out)
    lines = out.getvalue().splitlines()
    # A broken row between the demo's two dose rows (lines 2 and 4 once it is in).
    header, demo_1, demo_2, *rest = lines
    broken = [header, demo_1, "not,a,row", demo_2, *rest]
    results = list(read_csv(broken))
    message = "rows of one resident are split by a broken row (line 3)"
    assert results[:3] == [(2, message), (3, "has 3 fields, not 10"), (4, message)]
    assert all(not isinstance(r, str) for _, r in results[3:])


def test_ndjson_lines_are_exactly_what_json_dumps_writes() -> None:
    tricky = RegistryRecord(
        'Q-"1"\\',
        'Zoë "Zo" \\ Anne\u2028',
        "Nguyễn 🙂",
        date(2001, 1, 31),
        None,
        'x"y@example.org',
        (Immunization("208", date(2021, 5, 1), 'L"1', "A\\B", "entered-in-error"),),
    )
    for record in [*records(2_000), tricky]:
        reference = json.dumps(
            {
                "registry_id": record.registry_id,
                "phone": record.phone,
                "email": record.email,
                "bundle": to_bundle(record),
            },
            ensure_ascii=False,
            separators=(",", ":"),
        )
        assert io_ndjson([record]) == reference + "\n"


def test_hostile_ndjson_lines_are_rejected_not_raised() -> None:
    lines: list[str | bytes] = ["[" * 100_000, b"\xff\xfe\x00", b"\xc3\x28", '"just a string"']
    results = list(read_ndjson(lines))
    assert [n for n, _ in results] == [1, 2, 3, 4]
    assert all(isinstance(message, str) for _, message in results)
    assert results[0][1] == "not valid JSON (nested too deeply)"
