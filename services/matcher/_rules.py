"""The matching rules: which registry records a request names, and how strongly.

Every rule needs the contact to agree (the lookup only returns records on the request's
contact). The tiers, strictest first:

    exact       names as written (spaces collapsed) and birth date
    normalized  name keys (case, accents, hyphens, apostrophes, spaces folded) and birth date;
                given and family exchanged; one surname of a compound surname; the first of
                several given names
    tolerant    one typo or a known nickname in the given name, when birth date and family
                name agree; day and month exchanged, when the name keys agree exactly

Records with the same name keys and birth date are one person (recorded more than once). The
best tier decides: one person there is a match, several are a tie. A relaxed name rule is also
refused when another person on the contact carries exactly the typed name.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from enum import IntEnum

from services.matcher._nicknames import Nicknames
from vaxrec.registry import name_key

__all__ = ["Candidate", "Decision", "Rule", "Tier", "Typed", "decide", "swapped_day_month"]


class Tier(IntEnum):
    """Lower is stricter."""

    EXACT = 0
    NORMALIZED = 1
    TOLERANT = 2

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True)
class Rule:
    """A named rule: its tier and the reason an outcome by it carries."""

    tier: Tier
    reason: str
    #: Relaxes the name: refused if another person on the contact has exactly the typed name.
    relaxes_name: bool = False


EXACT = Rule(Tier.EXACT, "matched:exact")
NORMALIZED = Rule(Tier.NORMALIZED, "matched:normalized")
SWAPPED_NAMES = Rule(Tier.NORMALIZED, "matched:normalized:swapped-names", True)
COMPOUND_SURNAME = Rule(Tier.NORMALIZED, "matched:normalized:compound-surname", True)
MIDDLE_NAME = Rule(Tier.NORMALIZED, "matched:normalized:middle-name", True)
NICKNAME = Rule(Tier.TOLERANT, "matched:tolerant:nickname", True)
TYPO_GIVEN = Rule(Tier.TOLERANT, "matched:tolerant:typo-given", True)
SWAPPED_DAY_MONTH = Rule(Tier.TOLERANT, "matched:tolerant:swapped-day-month")

# Particles are never a surname on their own: "de la Cruz" is not "de", "Al-Masri" not "Al".
_PARTICLES = frozenset(
    ("de", "del", "la", "las", "los", "da", "das", "do", "dos", "di", "du", "van", "von", "der",
     "den", "ter", "y", "e", "al", "el", "abu", "bin", "ibn", "st")
)  # fmt: skip
_FAMILY_SPLIT = re.compile(r"[\s\-\u2010\u2011\u2012\u2013\u2014\u2015\u2212]+")
#: Shorter given names are too close to each other for a one-letter typo to be told apart.
_TYPO_MIN_LENGTH = 3


def _collapse(s: str) -> str:
    return " ".join(s.split())


def _given_tokens(s: str) -> tuple[str, ...]:
    return tuple(k for k in (name_key(t) for t in s.split()) if k)


def _family_runs(s: str) -> frozenset[str]:
    """Keys of every contiguous run of surname words that is not only particles."""
    words = [k for k in (name_key(w) for w in _FAMILY_SPLIT.split(s)) if k]
    runs = set()
    for i in range(len(words)):
        for j in range(i + 1, len(words) + 1):
            if any(w not in _PARTICLES for w in words[i:j]):
                runs.add("".join(words[i:j]))
    return frozenset(runs)


def swapped_day_month(d: date) -> date | None:
    """The date with day and month exchanged, if that is another valid date."""
    if d.day == d.month or d.day > 12:
        return None
    return d.replace(month=d.day, day=d.month)


@dataclass(frozen=True)
class Typed:
    """The request's names and birth date as typed; keys are derived on demand."""

    given: str
    family: str
    birth_date: date

    @property
    def given_key(self) -> str:
        return name_key(self.given)

    @property
    def family_key(self) -> str:
        return name_key(self.family)

    def birth_dates(self) -> list[date]:
        """The birth dates a candidate may have: as typed, and with day and month exchanged."""
        swapped = swapped_day_month(self.birth_date)
        return [self.birth_date] if swapped is None else [self.birth_date, swapped]


@dataclass(frozen=True)
class Candidate:
    """A registry record on the request's contact."""

    registry_id: str
    given_names: str
    family_name: str
    birth_date: date
    given_key: str
    family_key: str

    @property
    def identity(self) -> tuple[str, str, date]:
        """Records with the same identity (and a shared contact) are one person."""
        return (self.given_key, self.family_key, self.birth_date)


@dataclass(frozen=True)
class Decision:
    """The outcome for one request: the rule and the person's records, or why there is none."""

    reason: str
    tier: Tier | None = None
    #: The chosen person's records on the contact, lowest registry id first (empty if none).
    records: tuple[Candidate, ...] = ()

    @property
    def matched(self) -> bool:
        return bool(self.records)


def _one_edit(a: str, b: str) -> bool:
    """Optimal string alignment distance exactly 1: one substitution, insertion, deletion or
    transposition of adjacent letters."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return (
            len(diff) == 2
            and diff[1] == diff[0] + 1
            and a[diff[0]] == b[diff[1]]
            and a[diff[1]] == b[diff[0]]
        )
    short, long = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long[i]:
        i += 1
    return short[i:] == long[i + 1 :]


class _Request:
    """What the rules compare, computed once per request."""

    def __init__(self, typed: Typed, nicknames: Nicknames) -> None:
        self.typed = typed
        self.given = _collapse(typed.given)
        self.family = _collapse(typed.family)
        self.given_key = typed.given_key
        self.family_key = typed.family_key
        self.given_tokens = _given_tokens(typed.given)
        self.family_runs = _family_runs(typed.family)
        self.swapped_birth = swapped_day_month(typed.birth_date)
        self.nicknames = nicknames

    def family_part(self, c: Candidate) -> bool:
        # Either side may hold the longer compound: "López" typed for "García López", or
        # "García López" typed for a registry that recorded "López".
        return self.family_key in _family_runs(c.family_name) or c.family_key in self.family_runs

    def given_part(self, c: Candidate) -> bool:
        # "Juan" typed for "Juan Carlos", or "Juan Carlos" for a registry that has "Juan".
        theirs = _given_tokens(c.given_names)
        ours = self.given_tokens
        if not theirs or not ours or len(theirs) == len(ours):
            return False
        shorter, longer = (ours, theirs) if len(ours) < len(theirs) else (theirs, ours)
        return longer[: len(shorter)] == shorter

    def nickname(self, c: Candidate) -> bool:
        theirs = _given_tokens(c.given_names)
        ours = self.given_tokens
        if not theirs or not ours:
            return False
        if self.nicknames.related(self.given_key, c.given_key):
            return True
        # The first given name as a nickname; any further ones, if both sides wrote them, agree.
        rest_agrees = len(ours) == 1 or len(theirs) == 1 or ours[1:] == theirs[1:]
        return rest_agrees and self.nicknames.related(ours[0], theirs[0])

    def typo(self, c: Candidate) -> bool:
        return min(len(self.given_key), len(c.given_key)) >= _TYPO_MIN_LENGTH and _one_edit(
            self.given_key, c.given_key
        )

    def rule(self, c: Candidate) -> Rule | None:
        """The strictest rule by which this record is the requested person, if any."""
        if c.birth_date == self.typed.birth_date:
            if _collapse(c.given_names) == self.given and _collapse(c.family_name) == self.family:
                return EXACT
            given_same = c.given_key == self.given_key
            family_same = c.family_key == self.family_key
            if given_same and family_same:
                return NORMALIZED
            if c.given_key == self.family_key and c.family_key == self.given_key:
                return SWAPPED_NAMES
            family_part = not family_same and self.family_part(c)
            given_part = not given_same and self.given_part(c)
            if (given_same or given_part) and (family_same or family_part):
                return COMPOUND_SURNAME if family_part else MIDDLE_NAME
            if family_same or family_part:
                if self.nickname(c):
                    return NICKNAME
                if self.typo(c):
                    return TYPO_GIVEN
            return None
        if (
            c.birth_date == self.swapped_birth
            and c.given_key == self.given_key
            and c.family_key == self.family_key
        ):
            return SWAPPED_DAY_MONTH
        return None


def decide(typed: Typed, candidates: list[Candidate], nicknames: Nicknames) -> Decision | None:
    """The decision for a request among the records on its contact; None if no rule applies
    (the caller then tells a contact mismatch from no candidate at all)."""
    request = _Request(typed, nicknames)
    best: dict[tuple[str, str, date], tuple[Rule, list[Candidate]]] = {}
    for c in candidates:
        rule = request.rule(c)
        if rule is None:
            continue
        held = best.get(c.identity)
        if held is None:
            best[c.identity] = (rule, [c])
        else:
            held[1].append(c)
            if rule.tier < held[0].tier:
                best[c.identity] = (rule, held[1])
    if not best:
        return None
    top = min(rule.tier for rule, _ in best.values())
    people = [(rule, records) for rule, records in best.values() if rule.tier == top]
    if len(people) > 1:
        return Decision("unmatched:tie", top)
    rule, records = people[0]
    if rule.relaxes_name:
        chosen = records[0].identity
        # Someone else here is named exactly as typed: the typed name may be theirs, with a
        # wrong birth date, as much as a variant of this person's.
        for c in candidates:
            if (
                c.identity != chosen
                and c.given_key == request.given_key
                and c.family_key == request.family_key
            ):
                return Decision("unmatched:ambiguous", top)
    return Decision(rule.reason, top, tuple(sorted(records, key=lambda c: c.registry_id)))
