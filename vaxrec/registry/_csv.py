"""CSV registry extracts: one row per dose, a resident's rows next to each other."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from datetime import date
from typing import TextIO

from vaxrec.registry._model import Immunization, RegistryRecord
from vaxrec.registry._validate import (
    LineError,
    check_cvx,
    check_date,
    check_registry_id,
    optional_text,
    required_text,
)

__all__ = ["COLUMNS", "Row", "csv_residents", "csv_rows", "read_csv", "write_csv"]

COLUMNS = (
    "registry_id",
    "given_names",
    "family_name",
    "birth_date",
    "phone",
    "email",
    "cvx",
    "occurred_on",
    "lot_number",
    "performer",
)

_Person = tuple[str, str, date, str | None, str | None]


def write_csv(records: Iterable[RegistryRecord], fp: TextIO) -> int:
    """Write a header and one row per completed dose (one dose-less row for a resident without
    any); returns how many records were written."""
    writer = csv.writer(fp, lineterminator="\n")
    writer.writerow(COLUMNS)
    count = 0
    for r in records:
        person = (r.registry_id, r.given_names, r.family_name, r.birth_date.isoformat())
        contact = (r.phone or "", r.email or "")
        # The format has no status column: a row is a dose given, so only completed ones travel.
        doses = [d for d in r.immunizations if d.status == "completed"]
        if not doses:
            writer.writerow((*person, *contact, "", "", "", ""))
        writer.writerows(
            (
                *person,
                *contact,
                d.cvx,
                d.occurred_on.isoformat(),
                d.lot_number or "",
                d.performer or "",
            )
            for d in doses
        )
        count += 1
    return count


def _parse_row(row: list[str]) -> tuple[_Person, Immunization | None]:
    if len(row) != len(COLUMNS):
        raise LineError(f"has {len(row)} fields, not {len(COLUMNS)}")
    _, given, family, birth, phone, email, cvx, occurred_on, lot, performer = row
    person = (
        optional_text(given, "given_names") or "",
        required_text(family, "family_name"),
        check_date(birth.strip(), "birth_date"),
        optional_text(phone, "phone"),
        optional_text(email, "email"),
    )
    lot_number = optional_text(lot, "lot_number")
    performer_name = optional_text(performer, "performer")
    if not cvx.strip() and not occurred_on.strip():
        if lot_number or performer_name:
            raise LineError("lot_number or performer given without cvx and occurred_on")
        return person, None
    dose = Immunization(
        check_cvx(cvx.strip(), "cvx"),
        check_date(occurred_on.strip(), "occurred_on"),
        lot_number,
        performer_name,
    )
    return person, dose


class _Resident:
    """The rows of one resident read so far."""

    def __init__(self, registry_id: str, line: int) -> None:
        self.registry_id = registry_id
        self.line = line
        self.person: _Person | None = None
        self.doses: list[Immunization] = []
        self.error: tuple[int, str] | None = None

    def add(self, line: int, row: list[str]) -> None:
        if self.error:
            return
        try:
            check_registry_id(self.registry_id)
            person, dose = _parse_row(row)
            if self.person is None:
                self.person = person
            elif person != self.person:
                raise LineError(
                    "disagrees with the resident's earlier rows on name, birth or contact"
                )
        except LineError as exc:
            self.error = (line, str(exc))
            return
        if dose is not None:
            self.doses.append(dose)

    def fail(self, line: int, message: str) -> None:
        if not self.error:
            self.error = (line, message)

    def result(self) -> tuple[int, RegistryRecord | str]:
        if self.error:
            return self.error
        assert self.person is not None
        given, family, birth, phone, email = self.person
        record = RegistryRecord(
            self.registry_id, given, family, birth, phone, email, tuple(self.doses)
        )
        return self.line, record


#: A CSV row with its line number, or a line number and why the file cannot be read on.
Row = tuple[int, list[str] | str]


def csv_rows(lines: Iterable[str]) -> Iterator[Row]:
    """The data rows after a valid header, each with the line it starts on; blank rows skipped."""
    reader = csv.reader(lines)
    try:
        header = next(reader)
    except StopIteration:
        return
    except csv.Error:
        yield 1, "header is not valid CSV"
        return
    if tuple(h.strip().lstrip("\ufeff").lower() for h in header) != COLUMNS:
        yield 1, f"header is not {','.join(COLUMNS)}"
        return
    end = reader.line_num
    while True:
        try:
            row = next(reader)
        except StopIteration:
            return
        except csv.Error:
            # A broken quote swallows the rest of the file; nothing after it can be trusted.
            yield end + 1, "not valid CSV (unbalanced quotes?)"
            return
        line, end = end + 1, reader.line_num
        if not any(field.strip() for field in row):
            continue
        if len(row) != len(COLUMNS):
            # Its registry_id field cannot be trusted either, so it joins no resident.
            yield line, f"has {len(row)} fields, not {len(COLUMNS)}"
        else:
            yield line, row


def csv_residents(rows: Iterable[Row]) -> Iterator[tuple[int, RegistryRecord | str]]:
    """Group consecutive rows of one registry_id into a record (or the first error among them).

    A resident is held back until the next one starts: if broken rows separate two runs of the
    same registry_id, a row of that resident was broken, and loading the rest would drop its
    dose, so both runs are rejected.
    """
    held: _Resident | None = None
    gap: list[tuple[int, str]] = []
    current: _Resident | None = None

    def finish(group: _Resident | None) -> Iterator[tuple[int, RegistryRecord | str]]:
        nonlocal held, gap
        if held is not None:
            if gap and group is not None and group.registry_id == held.registry_id:
                message = f"rows of one resident are split by a broken row (line {gap[0][0]})"
                held.fail(held.line, message)
                group.fail(group.line, message)
            yield held.result()
        yield from gap
        held, gap = group, []

    for line, row in rows:
        if isinstance(row, str):
            if current is not None:
                yield from finish(current)
                current = None
            gap.append((line, row))
            continue
        registry_id = row[0].strip()
        if current is None or registry_id != current.registry_id:
            if current is not None:
                yield from finish(current)
            current = _Resident(registry_id, line)
        current.add(line, row)
    yield from finish(current)
    yield from finish(None)


def read_csv(lines: Iterable[str]) -> Iterator[tuple[int, RegistryRecord | str]]:
    """Yield (first line number, record) per resident and (line number, error) per bad resident.

    A bad row rejects its whole resident: loading the other rows would drop that dose from the
    registry, since a resident's rows replace what the registry has.
    """
    return csv_residents(csv_rows(lines))
