"""Records to staging-table rows: normalized keys and contacts, one dose per (vaccine, day)."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from vaxrec.registry._keys import name_key, normalize_email, normalize_phone
from vaxrec.registry._model import Immunization, RegistryRecord

__all__ = ["Batch", "Parsed", "Staged", "stage"]

#: What the readers yield: a line number and a record, or a line number and why it is bad.
Parsed = tuple[int, RegistryRecord | str]
Row = tuple[Any, ...]


@dataclass
class Staged:
    """One batch ready for COPY: rows as tuples, or as COPY text when a worker process made it."""

    patients: list[Row] | bytes
    contacts: list[Row] | bytes
    doses: list[Row] | bytes
    residents: int
    rejected: int = 0
    rejections: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)

    def as_copy_text(self) -> Staged:
        """The same batch with COPY text payloads, cheaper to pickle than tuples of dates."""
        return Staged(
            _copy_text(self.patients),
            _copy_text(self.contacts),
            _copy_text(self.doses),
            self.residents,
            self.rejected,
            self.rejections,
            self.warnings,
        )


def _text_field(value: Any) -> str:
    if value is None:
        return "\\N"
    if isinstance(value, date):
        return value.isoformat()
    # Readers refuse control characters, so a backslash is all COPY text needs escaped.
    return value.replace("\\", "\\\\") if "\\" in value else str(value)


def _copy_text(rows: list[Row] | bytes) -> bytes:
    if isinstance(rows, bytes):
        return rows
    return "".join("\t".join(map(_text_field, row)) + "\n" for row in rows).encode()


@dataclass
class Batch:
    """Rows for the three staging tables; a later line for the same resident replaces earlier."""

    patients: dict[str, Row] = field(default_factory=dict)
    contacts: dict[str, list[Row]] = field(default_factory=dict)
    doses: dict[str, list[Row]] = field(default_factory=dict)
    lines: dict[str, int] = field(default_factory=dict)
    rejected: int = 0
    rejections: list[tuple[int, str]] = field(default_factory=list)
    warnings: list[tuple[int, str]] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.patients)

    def reject(self, line: int, message: str) -> None:
        self.rejected += 1
        self.rejections.append((line, message))

    def add(self, line: int, record: RegistryRecord) -> None:
        """Stage one record, normalizing exactly as the matcher will."""
        rid = record.registry_id
        given_key, family_key = name_key(record.given_names), name_key(record.family_name)
        if not family_key:
            self.reject(line, "family name has no letters")
            return
        contacts = []
        if record.phone is not None:
            phone = normalize_phone(record.phone)
            if phone is None:
                self.warnings.append((line, "phone is not a valid number; loaded without it"))
            else:
                contacts.append((rid, "phone", phone))
        if record.email is not None:
            email = normalize_email(record.email)
            if email is None:
                self.warnings.append((line, "email is not an address; loaded without it"))
            else:
                contacts.append((rid, "email", email))
        earlier = self.lines.get(rid)
        if earlier is not None:
            self.warnings.append(
                (earlier, f"registry_id repeated on line {line}, which replaces this line")
            )
        self.lines[rid] = line
        self.patients[rid] = (
            rid,
            record.given_names,
            record.family_name,
            record.birth_date,
            given_key,
            family_key,
        )
        self.contacts[rid] = contacts
        self.doses[rid] = _dose_rows(rid, record.immunizations)

    def staged(self) -> Staged:
        """The batch as COPY rows."""
        return Staged(
            list(self.patients.values()),
            [c for cs in self.contacts.values() for c in cs],
            [d for ds in self.doses.values() for d in ds],
            len(self.patients),
            self.rejected,
            self.rejections,
            self.warnings,
        )


def _dose_rows(registry_id: str, doses: tuple[Immunization, ...]) -> list[Row]:
    rows = [(registry_id, d.cvx, d.occurred_on, d.lot_number, d.performer, d.status) for d in doses]
    if len({(r[1], r[2]) for r in rows}) == len(rows):
        return rows
    # The registry keys a dose by (vaccine, day): an extract that repeats one keeps the copy
    # with the most detail.
    best: dict[tuple[str, date], Immunization] = {}
    for d in doses:
        key = (d.cvx, d.occurred_on)
        kept = best.get(key)
        if kept is None or _detail(d) > _detail(kept):
            best[key] = d
    return [
        (registry_id, d.cvx, d.occurred_on, d.lot_number, d.performer, d.status)
        for d in best.values()
    ]


def _detail(d: Immunization) -> int:
    return (d.status == "completed") + (d.lot_number is not None) + (d.performer is not None)


def stage(parsed: Iterable[Parsed], size: int) -> Iterator[Staged]:
    """Cut parsed lines into staged batches of `size` residents (rejected lines ride along)."""
    batch = Batch()
    for line, item in parsed:
        if isinstance(item, str):
            batch.reject(line, item)
            continue
        batch.add(line, item)
        if len(batch) >= size:
            yield batch.staged()
            batch = Batch()
    if batch.patients or batch.rejected or batch.warnings:
        yield batch.staged()
