"""A labelled evaluation set: a synthetic registry with households, and requests that vary it.

Honest requests are what a resident plausibly types for their own record; each names the
registry records of the person it should find. Impostor requests must find nobody: any match
is a record handed to the wrong person.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Literal

from vaxrec.registry._generate import generate
from vaxrec.registry._keys import name_key, normalize_email, normalize_phone
from vaxrec.registry._model import RegistryRecord
from vaxrec.registry._rand import FastRandom

__all__ = ["HONEST", "IMPOSTORS", "Case", "EvaluationSet", "build"]

HONEST = (
    "exact",
    "case",
    "accents",
    "hyphens",
    "compound-surname",
    "swapped-names",
    "middle-name",
    "typo-given",
    "nickname",
    "phone-format",
    "email-format",
    "swapped-day-month",
    "duplicate-record",
    "children",
    "twins",
)
IMPOSTORS = ("wrong-dob", "sibling-name", "parent-as-child", "twin-ambiguous")

# How residents shorten the generator's given names. The evaluation keeps its own list on
# purpose: it measures the matcher's table against usage, it does not copy it.
_NICKNAMES = {
    "james": ("Jim", "Jimmy"), "robert": ("Bob", "Rob"), "patricia": ("Pat", "Patty"),
    "john": ("Johnny", "Jack"), "jennifer": ("Jen", "Jenny"), "michael": ("Mike",),
    "linda": ("Lindy",), "david": ("Dave",), "elizabeth": ("Liz", "Beth"),
    "william": ("Bill", "Will"), "barbara": ("Barb",), "richard": ("Rick", "Rich"),
    "susan": ("Sue",), "joseph": ("Joe",), "jessica": ("Jess",), "emily": ("Em",),
    "jose": ("Pepe",), "jesus": ("Chuy",), "guadalupe": ("Lupe",), "alejandro": ("Alex",),
    "daniela": ("Dani",), "isabel": ("Isa",), "fernando": ("Nando",), "lucia": ("Lucy",),
    "patrick": ("Pat", "Paddy"), "bridget": ("Biddy",), "katarzyna": ("Kasia",),
    "malgorzata": ("Gosia",), "oleksandr": ("Sasha",), "anastasia": ("Nastya",),
    "dmitri": ("Dima",), "giuseppe": ("Beppe",), "francesca": ("Franca",),
    "mohammed": ("Mo",), "angelica": ("Angie",), "michelle": ("Shelly",),
}  # fmt: skip
# Twins the generator never makes: names one letter apart (one substitution).
_TWIN_PAIRS = (
    ("Aiden", "Ayden"), ("Brian", "Bryan"), ("Carla", "Karla"), ("Jayden", "Jaiden"),
    ("Caitlin", "Kaitlin"), ("Eric", "Erik"), ("Madison", "Madisen"), ("Sofia", "Sonia"),
)  # fmt: skip
_LETTERS = "abcdefghijklmnopqrstuvwxyz"
_TO_ASCII = {"đ": "d", "Đ": "D", "ø": "o", "Ø": "O", "ł": "l", "Ł": "L", "ß": "ss"}
# Words that are not a surname on their own ("St." of "St. John", "de" of "de la Cruz").
_PARTICLES = frozenset(
    ("de", "del", "la", "las", "los", "da", "das", "do", "dos", "di", "du", "van", "von", "der",
     "den", "y", "al", "el", "abu", "st", "st.")
)  # fmt: skip


@dataclass(frozen=True)
class Case:
    """One labelled request."""

    variation: str
    honest: bool
    first_name: str
    last_name: str
    birth_date: date
    channel: Literal["sms", "email"]
    address: str
    #: The registry ids of the requested person (empty for an impostor).
    person: frozenset[str] = frozenset()
    #: The doses the answer must carry, as (CVX, day); None when any of the person's will do.
    doses: frozenset[tuple[str, date]] | None = None


@dataclass
class EvaluationSet:
    registry: list[RegistryRecord]
    cases: list[Case]


def _ascii(s: str) -> str:
    s = "".join(_TO_ASCII.get(c, c) for c in s)
    return "".join(c for c in unicodedata.normalize("NFKD", s) if not unicodedata.combining(c))


def _completed(records: list[RegistryRecord]) -> frozenset[tuple[str, date]]:
    return frozenset(
        (d.cvx, d.occurred_on) for r in records for d in r.immunizations if d.status == "completed"
    )


def _contacts(r: RegistryRecord) -> set[tuple[str, str]]:
    found = set()
    if r.phone and (phone := normalize_phone(r.phone)):
        found.add(("phone", phone))
    if r.email and (email := normalize_email(r.email)):
        found.add(("email", email))
    return found


def _people(records: list[RegistryRecord]) -> list[list[RegistryRecord]]:
    """Records grouped into people: same name keys and birth date, sharing a contact."""
    parent = list(range(len(records)))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    seen: dict[tuple[str, str, date, str, str], int] = {}
    for i, r in enumerate(records):
        identity = (name_key(r.given_names), name_key(r.family_name), r.birth_date)
        for contact in _contacts(r):
            j = seen.setdefault((*identity, *contact), i)
            parent[root(i)] = root(j)
    groups: dict[int, list[RegistryRecord]] = {}
    for i, r in enumerate(records):
        groups.setdefault(root(i), []).append(r)
    return list(groups.values())


def _typo(rng: FastRandom, name: str) -> str | None:
    """One random edit to a letter of the name (substitution, deletion, insertion, swap)."""
    positions = [i for i, c in enumerate(name) if c.isalpha()]
    if len(name_key(name)) < 4:
        return None
    i = rng.pick(positions)
    kind = rng.below(4)
    c = rng.pick(_LETTERS)
    if kind == 0:
        out = name[:i] + c + name[i + 1 :]
    elif kind == 1:
        out = name[:i] + name[i + 1 :]
    elif kind == 2:
        out = name[:i] + c + name[i:]
    else:
        j = i + 1
        if j >= len(name) or not name[j].isalpha():
            return None
        out = name[:i] + name[j] + name[i] + name[j + 1 :]
    return out if name_key(out) != name_key(name) else None


def _phone_format(rng: FastRandom, e164: str) -> str:
    n = e164.removeprefix("+1")
    a, b, c = n[:3], n[3:6], n[6:]
    return rng.pick(
        (f"({a}) {b}-{c}", f"{a}.{b}.{c}", f"1-{a}-{b}-{c}", f"1{n}", f"+1 {a} {b} {c}",
         f" {a} {b} {c} ", f"{a}-{b}-{c}")
    )  # fmt: skip


def _compound(rng: FastRandom, family: str) -> str | None:
    words = family.replace("-", " ").split()
    surnames = [w for w in words if w.lower() not in _PARTICLES]
    if len(surnames) < 2:
        return None
    return rng.pick((surnames[0], surnames[-1], "-".join(words), _ascii(surnames[-1])))


def _hyphens(rng: FastRandom, name: str) -> str | None:
    if not any(c in name for c in "-'\u2019."):
        return None
    joiner = rng.pick(("", " "))
    out = name.replace("\u2019", "'")
    for c in "-'.":
        out = out.replace(c, joiner)
    return " ".join(out.split())


class _Builder:
    def __init__(self, residents: int, seed: int) -> None:
        self.rng = FastRandom(seed * 7919 + 17)
        self.registry = list(generate(residents, seed, include_demo=False, id_prefix="EV"))
        self.cases: list[Case] = []
        self.households: list[tuple[RegistryRecord, list[RegistryRecord]]] = []
        self.twins: list[tuple[RegistryRecord, RegistryRecord]] = []

    # -- households: a parent and children on one contact, and twins -------------------------

    def add_households(self, count: int, seed: int) -> None:
        rng = self.rng
        donors = iter(generate(count * 6, seed + 1, include_demo=False, id_prefix="EH"))
        for h in range(count):
            parent = next(donors)
            family = parent.family_name
            phone = f"+1415{600 + h // 10000:03d}{h % 10000:04d}" if h % 2 else None
            email = None if phone else f"household{h}.{name_key(family)[:12]}@example.net"
            parent = parent._replace(phone=phone, email=email)
            children = []
            used = {name_key(parent.given_names)}
            for k in range(2):
                donor = next(donors)
                if name_key(donor.given_names) in used:
                    donor = next(donors)
                used.add(name_key(donor.given_names))
                born = date(2006, 1, 1) + timedelta(days=rng.below(15 * 365))
                children.append(
                    donor._replace(
                        registry_id=f"EH-{h:06d}-C{k}",
                        family_name=family,
                        birth_date=born,
                        phone=phone,
                        email=email,
                    )
                )
            parent = parent._replace(registry_id=f"EH-{h:06d}-P")
            self.households.append((parent, children))
            self.registry += [parent, *children]
            if h % 3 == 0:
                given = rng.pick(_TWIN_PAIRS)
                born = date(2008, 1, 1) + timedelta(days=rng.below(12 * 365))
                donor = next(donors)
                a, b = (
                    donor._replace(
                        registry_id=f"EH-{h:06d}-T{k}",
                        given_names=given[k],
                        family_name=family,
                        birth_date=born,
                        phone=phone,
                        email=email,
                    )
                    for k in range(2)
                )
                self.twins.append((a, b))
                self.registry += [a, b]

    # -- requests ------------------------------------------------------------------------------

    def case(
        self,
        variation: str,
        person: list[RegistryRecord],
        record: RegistryRecord,
        *,
        first: str | None = None,
        last: str | None = None,
        born: date | None = None,
        address: str | None = None,
        honest: bool = True,
        full_doses: bool = False,
    ) -> Case | None:
        contacts = sorted(_contacts(record))
        if not contacts:
            return None
        kind, value = self.rng.pick(contacts)
        return Case(
            variation=variation,
            honest=honest,
            first_name=record.given_names if first is None else first,
            last_name=record.family_name if last is None else last,
            birth_date=record.birth_date if born is None else born,
            channel="sms" if kind == "phone" else "email",
            address=value if address is None else address,
            person=frozenset(r.registry_id for r in person) if honest else frozenset(),
            doses=_completed(person) if full_doses else None,
        )

    def honest_cases(self, per_variation: int) -> None:
        rng = self.rng
        people = _people(self.registry)
        singles = [p for p in people if len(p) == 1 and _contacts(p[0])]
        in_household = {r.registry_id for _, cs in self.households for r in cs}
        in_household |= {p.registry_id for p, _ in self.households}
        in_household |= {t.registry_id for pair in self.twins for t in pair}
        singles = [p for p in singles if p[0].registry_id not in in_household]
        duplicates = [p for p in people if len(p) > 1]
        variants: dict[str, Callable[[list[RegistryRecord]], Case | None]] = {
            "exact": lambda p: self.case("exact", p, p[0]),
            "case": lambda p: self.case(
                "case",
                p,
                p[0],
                first=rng.pick((str.upper, str.lower, str.swapcase))(p[0].given_names),
                last=rng.pick((str.upper, str.lower))(p[0].family_name),
            ),
            "accents": lambda p: (
                self.case(
                    "accents",
                    p,
                    p[0],
                    first=_ascii(p[0].given_names),
                    last=_ascii(p[0].family_name),
                )
                if not (p[0].given_names + p[0].family_name).isascii()
                else None
            ),
            "hyphens": lambda p: self._hyphens(p),
            "compound-surname": lambda p: (
                self.case("compound-surname", p, p[0], last=last)
                if (last := _compound(rng, p[0].family_name))
                else None
            ),
            "swapped-names": lambda p: self.case(
                "swapped-names", p, p[0], first=p[0].family_name, last=p[0].given_names
            ),
            "middle-name": lambda p: (
                self.case("middle-name", p, p[0], first=p[0].given_names.split()[0])
                if len(p[0].given_names.split()) > 1
                else None
            ),
            "typo-given": lambda p: (
                self.case("typo-given", p, p[0], first=typo)
                if (typo := _typo(rng, p[0].given_names))
                else None
            ),
            "nickname": lambda p: (
                self.case("nickname", p, p[0], first=rng.pick(nicks))
                if (nicks := _NICKNAMES.get(name_key(p[0].given_names.split()[0]), ()))
                else None
            ),
            "phone-format": lambda p: (
                self.case("phone-format", p, p[0], address=_phone_format(rng, phone))
                if p[0].phone and (phone := normalize_phone(p[0].phone)) and not p[0].email
                else None
            ),
            "email-format": lambda p: (
                self.case("email-format", p, p[0], address=f" {p[0].email.strip().upper()} ")
                if p[0].email and normalize_email(p[0].email) and not p[0].phone
                else None
            ),
            "swapped-day-month": lambda p: (
                self.case(
                    "swapped-day-month",
                    p,
                    p[0],
                    born=p[0].birth_date.replace(
                        month=p[0].birth_date.day, day=p[0].birth_date.month
                    ),
                )
                if p[0].birth_date.day <= 12 and p[0].birth_date.day != p[0].birth_date.month
                else None
            ),
        }
        for make in variants.values():
            made = 0
            for p in rng.sample(singles, len(singles)):
                if made >= per_variation:
                    break
                c = make(p)
                if c is not None:
                    self.cases.append(c)
                    made += 1
        for p in rng.sample(duplicates, min(per_variation, len(duplicates))):
            # Asking with what one of the records holds: the answer must bring all the doses.
            c = self.case("duplicate-record", p, rng.pick(p), full_doses=True)
            if c is not None:
                self.cases.append(c)
        for _, children in self.households[:per_variation]:
            for child in children:
                c = self.case("children", [child], child)
                if c is not None:
                    self.cases.append(c)
        for a, b in self.twins[:per_variation]:
            for twin in (a, b):
                c = self.case("twins", [twin], twin)
                if c is not None:
                    self.cases.append(c)

    def _hyphens(self, p: list[RegistryRecord]) -> Case | None:
        first = _hyphens(self.rng, p[0].given_names)
        last = _hyphens(self.rng, p[0].family_name)
        if first is None and last is None:
            return None
        return self.case("hyphens", p, p[0], first=first, last=last)

    def impostor_cases(self, per_variation: int) -> None:
        rng = self.rng
        people = [p for p in _people(self.registry) if len(p) == 1 and _contacts(p[0])]
        for p in rng.sample(people, min(per_variation, len(people))):
            born = p[0].birth_date
            shift = rng.between(1, 400) * rng.pick((-1, 1))
            wrong = born + timedelta(days=shift)
            if wrong.day <= 12 and wrong.replace(month=wrong.day, day=wrong.month) == born:
                continue
            c = self.case("wrong-dob", p, p[0], born=wrong, honest=False)
            if c is not None:
                self.cases.append(c)
        for parent, (first, second) in self.households[:per_variation]:
            # A sibling asks with the other's name and their own birth date.
            c = self.case("sibling-name", [first], first, first=second.given_names, honest=False)
            if c is not None:
                self.cases.append(c)
            # A parent asks with the child's name and the parent's own birth date.
            c = self.case(
                "parent-as-child", [parent], parent, first=first.given_names, honest=False
            )
            if c is not None:
                self.cases.append(c)
        for a, b in self.twins[:per_variation]:
            # A name one letter from both twins: either could have meant it.
            i = next(
                i
                for i, (x, y) in enumerate(zip(a.given_names, b.given_names, strict=True))
                if x != y
            )
            c = self.case(
                "twin-ambiguous", [a], a, first=a.given_names[:i] + a.given_names[i + 1 :],
                honest=False,
            )  # fmt: skip
            if c is not None:
                self.cases.append(c)


def build(residents: int, seed: int, per_variation: int) -> EvaluationSet:
    """The registry and the labelled requests; the same arguments give the same set."""
    builder = _Builder(residents, seed)
    builder.add_households(max(per_variation, residents // 50), seed)
    builder.honest_cases(per_variation)
    builder.impostor_cases(per_variation)
    return EvaluationSet(builder.registry, builder.cases)
