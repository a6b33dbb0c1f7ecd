"""Importing extracts into the real Postgres: counts, idempotence, replacement, bad lines."""

from __future__ import annotations

import gzip
import json
from datetime import date
from pathlib import Path

import asyncpg
import pytest

from vaxrec.registry import (
    Immunization,
    RegistryRecord,
    UnknownFormatError,
    generate,
    import_file,
    import_records,
    name_key,
    normalize_email,
    normalize_phone,
    write_csv,
    write_ndjson,
)


def residents(prefix: str, n: int, seed: int = 5) -> list[RegistryRecord]:
    return list(generate(n, seed, include_demo=False, id_prefix=prefix))


def ndjson_file(path: Path, records: list[RegistryRecord]) -> Path:
    with path.open("w", encoding="utf-8") as fp:
        write_ndjson(records, fp)
    return path


async def counts(db: asyncpg.Pool, prefix: str) -> tuple[int, int, int]:
    row = await db.fetchrow(
        """
        SELECT (SELECT count(*) FROM registry.patients WHERE registry_id LIKE $1),
               (SELECT count(*) FROM registry.contacts WHERE registry_id LIKE $1),
               (SELECT count(*) FROM registry.immunizations WHERE registry_id LIKE $1)
        """,
        f"{prefix}-%",
    )
    assert row is not None
    return row[0], row[1], row[2]


async def versions(db: asyncpg.Pool, prefix: str) -> dict[str, tuple[str, object]]:
    """Each patient's row version (xmin) and updated_at: any write changes the first."""
    rows = await db.fetch(
        "SELECT registry_id, xmin::text AS v, updated_at FROM registry.patients "
        "WHERE registry_id LIKE $1",
        f"{prefix}-%",
    )
    return {r["registry_id"]: (r["v"], r["updated_at"]) for r in rows}


def expected_counts(records: list[RegistryRecord]) -> tuple[int, int, int]:
    contacts = sum(
        (r.phone is not None and normalize_phone(r.phone) is not None)
        + (r.email is not None and normalize_email(r.email) is not None)
        for r in records
    )
    doses = sum(len({(d.cvx, d.occurred_on) for d in r.immunizations}) for r in records)
    return len(records), contacts, doses


async def test_import_then_reimport_changes_nothing(
    db: asyncpg.Pool, prefix: str, tmp_path: Path
) -> None:
    records = residents(prefix, 300)
    path = ndjson_file(tmp_path / "extract.ndjson", records)

    first = await import_file(db, path)
    assert (first.loaded, first.updated, first.unchanged, first.rejected) == (300, 0, 0, 0)
    assert await counts(db, prefix) == expected_counts(records)
    before = await versions(db, prefix)

    again = await import_file(db, path)
    assert (again.loaded, again.updated, again.unchanged, again.rejected) == (0, 0, 300, 0)
    assert await versions(db, prefix) == before
    assert await counts(db, prefix) == expected_counts(records)


async def test_rows_hold_normalized_keys_and_contacts(db: asyncpg.Pool, prefix: str) -> None:
    record = RegistryRecord(
        f"{prefix}-1",
        "María-José",
        "O'Brien García",
        date(1960, 2, 29),
        "(213) 555-0142",
        " Maria.OBrien@Example.ORG ",
        (
            Immunization("207", date(2021, 3, 1), "039K20A", "LA COUNTY DPH"),
            Immunization("207", date(2021, 3, 29)),
        ),
    )
    summary = await import_records(db, [(1, record)])
    assert summary.loaded == 1
    patient = await db.fetchrow(
        "SELECT given_names, family_name, given_key, family_key, birth_date "
        "FROM registry.patients WHERE registry_id = $1",
        record.registry_id,
    )
    assert patient is not None
    assert dict(patient) == {
        "given_names": "María-José",
        "family_name": "O'Brien García",
        "given_key": name_key("María-José"),
        "family_key": "obriengarcia",
        "birth_date": date(1960, 2, 29),
    }
    contacts = await db.fetch(
        "SELECT kind, value FROM registry.contacts WHERE registry_id = $1 ORDER BY kind",
        record.registry_id,
    )
    assert [tuple(c) for c in contacts] == [
        ("email", "maria.obrien@example.org"),
        ("phone", "+12135550142"),
    ]
    doses = await db.fetch(
        "SELECT cvx, occurred_on, lot_number, performer, status FROM registry.immunizations "
        "WHERE registry_id = $1 ORDER BY occurred_on",
        record.registry_id,
    )
    assert [tuple(d) for d in doses] == [
        ("207", date(2021, 3, 1), "039K20A", "LA COUNTY DPH", "completed"),
        ("207", date(2021, 3, 29), None, None, "completed"),
    ]


async def test_changed_resident_is_updated_and_replaced(
    db: asyncpg.Pool, prefix: str, tmp_path: Path
) -> None:
    records = residents(prefix, 50)
    await import_file(db, ndjson_file(tmp_path / "a.ndjson", records))
    before = await versions(db, prefix)

    # One resident lost a dose and their email and gained a phone in the newer extract.
    target = next(r for r in records if len(r.immunizations) > 1 and r.email)
    changed = target._replace(
        immunizations=target.immunizations[:-1], email=None, phone="+1 (415) 555-0199"
    )
    newer = [changed if r is target else r for r in records]
    summary = await import_file(db, ndjson_file(tmp_path / "b.ndjson", newer))
    assert (summary.loaded, summary.updated, summary.unchanged) == (0, 1, 49)

    after = await versions(db, prefix)
    assert {k for k in after if after[k] != before[k]} == {target.registry_id}
    assert after[target.registry_id][1] > before[target.registry_id][1]  # type: ignore[operator]
    contacts = await db.fetch(
        "SELECT kind, value FROM registry.contacts WHERE registry_id = $1", target.registry_id
    )
    assert [tuple(c) for c in contacts] == [("phone", "+14155550199")]
    doses = await db.fetchval(
        "SELECT count(*) FROM registry.immunizations WHERE registry_id = $1", target.registry_id
    )
    assert doses == len(target.immunizations) - 1

    # A name change alone counts too, and a lot number alone too.
    renamed = changed._replace(given_names=changed.given_names + " Jr")
    other = next(r for r in newer if r.registry_id != target.registry_id)
    relot = other._replace(
        immunizations=(
            other.immunizations[0]._replace(lot_number="ZZ9999"),
            *other.immunizations[1:],
        )
    )
    summary = await import_records(db, [(1, renamed), (2, relot)])
    assert (summary.loaded, summary.updated, summary.unchanged) == (0, 2, 0)


async def test_malformed_lines_are_reported_and_the_rest_loaded(
    db: asyncpg.Pool, prefix: str, tmp_path: Path
) -> None:
    records = residents(prefix, 6)
    good = [json.loads(line) for line in ndjson_to_lines(records)]
    no_birth = json.loads(json.dumps(good[1]))
    del no_birth["bundle"]["entry"][0]["resource"]["birthDate"]
    bad_date = json.loads(json.dumps(good[2]))
    bad_date["bundle"]["entry"][0]["resource"]["birthDate"] = "1970-02-30"
    lines = [
        json.dumps(good[0]),  # 1
        "{not json",  # 2
        json.dumps(no_birth),  # 3
        json.dumps(bad_date),  # 4
        "registry_id,given_names,family_name",  # 5: a CSV line in an NDJSON file
        json.dumps({"hello": "world"}),  # 6
        json.dumps(good[3]),  # 7
        json.dumps(good[4]),  # 8
        json.dumps(good[5]),  # 9
    ]
    path = tmp_path / "mixed.jsonl"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    summary = await import_file(db, path)
    assert (summary.loaded, summary.rejected) == (4, 5)
    assert [line for line, _ in summary.rejections] == [2, 3, 4, 5, 6]
    assert summary.rejections[1] == (3, "Patient.birthDate is missing")
    assert summary.rejections[2] == (4, "Patient.birthDate is not a valid date")
    assert (await counts(db, prefix))[0] == 4
    loaded = {
        r["registry_id"]
        for r in await db.fetch(
            "SELECT registry_id FROM registry.patients WHERE registry_id LIKE $1", f"{prefix}-%"
        )
    }
    assert loaded == {records[i].registry_id for i in (0, 3, 4, 5)}


def ndjson_to_lines(records: list[RegistryRecord]) -> list[str]:
    import io

    out = io.StringIO()
    write_ndjson(records, out)
    return out.getvalue().splitlines()


async def test_bad_contacts_warn_and_repeated_ids_keep_the_last(
    db: asyncpg.Pool, prefix: str
) -> None:
    a = RegistryRecord(f"{prefix}-1", "Ana", "Ruiz", date(1990, 1, 1), "555-01", "not-an-email", ())
    b = a._replace(given_names="Anna")
    summary = await import_records(db, [(1, a), (2, b)])
    assert (summary.loaded, summary.rejected) == (1, 0)
    assert sorted(summary.warnings) == [
        (1, "email is not an address; loaded without it"),
        (1, "phone is not a valid number; loaded without it"),
        (1, "registry_id repeated on line 2, which replaces this line"),
        (2, "email is not an address; loaded without it"),
        (2, "phone is not a valid number; loaded without it"),
    ]
    assert (
        await db.fetchval(
            "SELECT given_names FROM registry.patients WHERE registry_id = $1", a.registry_id
        )
        == "Anna"
    )
    assert await counts(db, prefix) == (1, 0, 0)


async def test_csv_and_gzip_hold_the_same_registry(
    db: asyncpg.Pool, prefix: str, tmp_path: Path
) -> None:
    records = residents(prefix, 200, seed=9)
    with gzip.open(tmp_path / "extract.ndjson.gz", "wt", encoding="utf-8") as fp:
        write_ndjson(records, fp)
    with (tmp_path / "extract.csv").open("w", encoding="utf-8", newline="") as fp:
        write_csv(records, fp)

    first = await import_file(db, tmp_path / "extract.ndjson.gz")
    assert first.loaded == 200
    # The same residents from the CSV extract: nothing to change.
    second = await import_file(db, tmp_path / "extract.csv")
    assert (second.loaded, second.updated, second.unchanged) == (0, 0, 200)


async def test_unknown_extension_is_refused(db: asyncpg.Pool, tmp_path: Path) -> None:
    path = tmp_path / "extract.xml"
    path.write_text("<Bundle/>")
    with pytest.raises(UnknownFormatError):
        await import_file(db, path)


async def test_a_few_thousand_residents_in_small_batches(
    db: asyncpg.Pool, prefix: str, tmp_path: Path, database_url: str
) -> None:
    records = residents(prefix, 4_000, seed=21)
    path = ndjson_file(tmp_path / "big.ndjson", records)
    # Small batches so the test crosses many batch boundaries; a DSN rather than a pool.
    summary = await import_file(database_url, path, batch_size=700)
    assert (summary.loaded, summary.updated, summary.unchanged, summary.rejected) == (
        4_000,
        0,
        0,
        0,
    )
    assert await counts(db, prefix) == expected_counts(records)
    twice = await db.fetchval(
        """
        SELECT count(*) FROM (
            SELECT 1 FROM registry.patients WHERE registry_id LIKE $1
            GROUP BY given_key, family_key, birth_date HAVING count(*) > 1
        ) t
        """,
        f"{prefix}-%",
    )
    assert 40 <= twice <= 120  # the ~2% recorded twice keep their separate records
    again = await import_file(database_url, path, batch_size=1_000)
    assert (again.loaded, again.updated, again.unchanged) == (0, 0, 4_000)


@pytest.mark.parametrize("suffix", [".ndjson", ".csv"])
async def test_worker_processes_give_the_same_result(
    db: asyncpg.Pool, prefix: str, tmp_path: Path, suffix: str
) -> None:
    records = residents(prefix, 1_200, seed=31)
    path = tmp_path / f"extract{suffix}"
    with path.open("w", encoding="utf-8", newline="") as fp:
        (write_csv if suffix == ".csv" else write_ndjson)(records, fp)
    lines = path.read_text(encoding="utf-8").splitlines()
    # Bad lines near chunk boundaries must keep their own line numbers.
    bad_at = [2, 301, 302, 650]
    for n in bad_at:
        lines[n - 1] = "x,y,z" if suffix == ".csv" else "{broken"
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")

    summary = await import_file(db, path, batch_size=150, workers=2)
    rejected = [line for line, _ in summary.rejections]
    # A broken CSV row inside a resident also rejects that resident's other rows.
    assert set(bad_at) <= set(rejected)
    assert len(rejected) == len(bad_at) or suffix == ".csv"
    serial = await import_file(db, path, batch_size=150, workers=0)
    assert serial.rejections == summary.rejections
    assert (serial.loaded, serial.updated) == (0, 0)
    assert serial.unchanged == summary.loaded
    assert summary.loaded == (await counts(db, prefix))[0]
