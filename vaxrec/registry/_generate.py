"""A deterministic synthetic registry for demos, tests and benchmarks."""

from __future__ import annotations

import bisect
import heapq
import itertools
import unicodedata
from collections.abc import Iterator
from datetime import date

from vaxrec.registry._keys import name_key
from vaxrec.registry._model import Immunization, RegistryRecord
from vaxrec.registry._names import ORIGINS, Origin
from vaxrec.registry._rand import FastRandom
from vaxrec.registry._vaccines import dose_history

__all__ = ["DEMO_RESIDENT", "generate"]

#: The resident every demo registry holds; the README and the run banner quote him.
DEMO_RESIDENT = RegistryRecord(
    registry_id="DEMO-0001",
    given_names="John",
    family_name="Doe",
    birth_date=date(1951, 8, 15),
    phone="+12135550100",
    email="john.doe@example.org",
    immunizations=(
        Immunization("208", date(2021, 2, 23), None, "KAISER PERMANENTE NCAL"),
        Immunization("208", date(2021, 3, 16), "EN6207", "KAISER PERMANENTE NCAL"),
    ),
)

_INSTITUTIONS = (
    "KAISER PERMANENTE NCAL",
    "KAISER PERMANENTE SCAL",
    "LA COUNTY DPH",
    "SAN DIEGO COUNTY HHSA",
    "ORANGE COUNTY HCA",
    "SAN FRANCISCO DPH",
    "SUTTER HEALTH",
    "UCSF HEALTH",
    "UCLA HEALTH",
    "UC DAVIS HEALTH",
    "STANFORD HEALTH CARE",
    "CEDARS-SINAI MEDICAL CENTER",
    "DIGNITY HEALTH",
    "PROVIDENCE ST. JOSEPH HEALTH",
    "ALTAMED HEALTH SERVICES",
    "LA CLINICA DE LA RAZA",
    "ASIAN HEALTH SERVICES",
    "ST. JOHN'S COMMUNITY HEALTH",
    "OPTUMSERVE - DODGER STADIUM",
    "VA GREATER LOS ANGELES",
    "SHARP HEALTHCARE",
    "JOHN MUIR HEALTH",
)
_CHAINS = (
    ("CVS PHARMACY", 4, 30),
    ("WALGREENS", 5, 30),
    ("RITE AID", 5, 15),
    ("COSTCO PHARMACY", 3, 8),
    ("SAFEWAY PHARMACY", 4, 8),
    ("VONS PHARMACY", 4, 6),
    ("RALPHS PHARMACY", 4, 6),
    ("WALMART PHARMACY", 4, 8),
)

# Real area codes with the 555-01XX numbers reserved for fiction: a demo that is wired to a real
# SMS provider can never text a stranger.
_AREA_CODES = (
    "213", "310", "323", "424", "562", "626", "661", "747", "818", "714", "657", "949", "909",
    "951", "760", "442", "619", "858", "805", "408", "415", "628", "650", "510", "341", "925",
    "707", "916", "279", "530", "559", "209", "831", "669", "702", "206", "503", "602", "312",
    "212", "917", "305", "713", "404"
)  # fmt: skip
# Mostly adults; some teens, school-age children and toddlers, who follow later schedules.
_BIRTH_SPANS = tuple(
    (share, date(first, 1, 1).toordinal(), (date(last, 12, 31) - date(first, 1, 1)).days)
    for share, first, last in (
        (0.80, 1925, 2003),
        (0.92, 2004, 2009),
        (0.98, 2010, 2016),
        (1.0, 2017, 2021),
    )
)
_EMAIL_DOMAINS = ("example.com", "example.org", "example.net", "mail.example.com")


def _providers(rng: FastRandom) -> list[str]:
    sites = list(_INSTITUTIONS)
    for chain, digits, stores in _CHAINS:
        sites += [f"{chain} #{rng.below(10**digits):0{digits}d}" for _ in range(stores)]
    return sites


def _without_accents(s: str) -> str:
    # How a second system that stores ASCII only records the same person ("José" → "Jose").
    decomposed = unicodedata.normalize("NFKD", s)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


class _Generator:
    """One generator's state; a class only so the hot loop reads its tables as locals."""

    def __init__(self, seed: int) -> None:
        self.rng = FastRandom(seed)
        self.providers = _providers(self.rng)
        self.origins: tuple[Origin, ...] = ORIGINS
        self.origin_cumulative = list(itertools.accumulate(o.weight for o in ORIGINS))

    def birth(self) -> int:
        r = self.rng.random()
        for share, lo, days in _BIRTH_SPANS:
            if r < share:
                return lo + self.rng.below(days)
        raise AssertionError("the last birth span has share 1")

    def names(self) -> tuple[str, str]:
        rng = self.rng
        cumulative = self.origin_cumulative
        origin = self.origins[bisect.bisect(cumulative, rng.random() * cumulative[-1])]
        given = rng.pick(origin.given)
        if rng.random() < 0.2:
            middle = rng.pick(origin.given)
            if middle != given:
                given = f"{given} {middle}"
        # Families mix: some surnames come from another origin than the given name.
        surnames = origin if rng.random() < 0.9 else rng.pick(self.origins)
        family = rng.pick(surnames.family)
        if rng.random() < surnames.two_surnames:
            second = rng.pick(surnames.family)
            if second != family:
                family = f"{family} {second}"
        if rng.random() < 0.1:
            given, family = given.upper(), family.upper()
        return given, family

    def phone(self) -> str:
        rng = self.rng
        area, line = rng.pick(_AREA_CODES), f"01{rng.below(100):02d}"
        r = rng.random()
        if r < 0.7:
            return f"+1{area}555{line}"
        if r < 0.85:
            return f"({area}) 555-{line}"
        if r < 0.95:
            return f"{area}-555-{line}"
        return f"{area}.555.{line}"

    def email(self, given: str, family: str, birth: int) -> str:
        rng = self.rng
        first, last = name_key(given.split()[0]), name_key(family)
        r = rng.random()
        local = (
            f"{first}.{last}"
            if r < 0.4
            else f"{first[0]}{last}{rng.below(100)}"
            if r < 0.7
            else f"{first}{last}{date.fromordinal(birth).year % 100:02d}"
        )
        address = f"{local}@{rng.pick(_EMAIL_DOMAINS)}"
        return address if rng.random() < 0.95 else address.title()

    def person(self, registry_id: str) -> RegistryRecord:
        rng = self.rng
        given, family = self.names()
        birth = self.birth()
        r = rng.random()
        phone = self.phone() if r < 0.45 or 0.80 <= r < 0.97 else None
        email = self.email(given, family, birth) if 0.45 <= r < 0.97 else None
        return RegistryRecord(
            registry_id=registry_id,
            given_names=given,
            family_name=family,
            birth_date=date.fromordinal(birth),
            phone=phone,
            email=email,
            immunizations=tuple(dose_history(rng, birth, self.providers)),
        )

    def second_record(self, person: RegistryRecord, registry_id: str) -> RegistryRecord:
        """The same person as another provider's system recorded them."""
        rng = self.rng
        given, family = person.given_names, person.family_name
        if rng.random() < 0.5:
            given, family = _without_accents(given), _without_accents(family)
        if rng.random() < 0.3:
            given, family = given.upper(), family.upper()
        doses = person.immunizations
        if len(doses) > 1 and rng.random() < 0.6:
            keep = sorted(rng.sample(range(len(doses)), rng.between(1, len(doses) - 1)))
            doses = tuple(doses[i] for i in keep)
        phone, email = person.phone, person.email
        if phone and email and rng.random() < 0.3:
            phone, email = (phone, None) if rng.random() < 0.5 else (None, email)
        return person._replace(
            registry_id=registry_id,
            given_names=given,
            family_name=family,
            phone=phone,
            email=email,
            immunizations=doses,
        )


def generate(
    residents: int, seed: int, *, include_demo: bool = True, id_prefix: str = "SYN"
) -> Iterator[RegistryRecord]:
    """Yield `residents` synthetic registry records; the same seed yields the same records."""
    if residents <= 0:
        return
    emitted = 0
    if include_demo:
        yield DEMO_RESIDENT
        emitted = 1
    gen = _Generator(seed)
    rng = gen.rng
    # About 2% of people are recorded twice; the copy turns up a little later in the extract.
    pending: list[tuple[int, int, RegistryRecord]] = []
    number = 0
    while emitted < residents:
        number += 1
        registry_id = f"{id_prefix}-{number:08d}"
        if pending and pending[0][0] <= number:
            _, _, person = heapq.heappop(pending)
            yield gen.second_record(person, registry_id)
        else:
            person = gen.person(registry_id)
            if rng.random() < 0.02:
                heapq.heappush(pending, (number + rng.between(1, 300), number, person))
            yield person
        emitted += 1
