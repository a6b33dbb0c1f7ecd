"""`vaxrec registry evaluate`: recall and wrong-person matches of vaxrec's matcher and two
baselines, per variation, on one labelled evaluation set loaded into a throwaway database.

vaxrec's matcher is the service's own `find_person` (services.matcher), not a copy. The
baselines are the rules of California's and Washington's record services as published:

    strict  trimmed upper-case names, the exact birth date, the contact; first row wins
    tiered  the contact and birth date, plus first and last name (best), first name, or last
            name; the best rank must hold exactly one registry record, else no match

All three compare the contact as the registry stores it (E.164, lower-case email): the
baselines' front ends normalized phone numbers too, so the comparison is about names and dates.
"""

from __future__ import annotations

import asyncio
import secrets
import time
from collections import Counter
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import date
from typing import TextIO
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from contracts import Contact
from services.matcher import find_person, normalized_contact
from vaxrec.registry._evalset import HONEST, IMPOSTORS, Case, build
from vaxrec.registry._import import import_records
from vaxrec.registry._keys import normalize_email, normalize_phone

__all__ = ["MATCHERS", "Evaluation", "Score", "evaluate", "evaluate_throwaway"]

MATCHERS = ("vaxrec", "strict", "tiered")
RECALL_TARGET = 0.99

#: What a matcher answers: the registry id it chose and the doses it would issue, or None.
Answer = tuple[str, frozenset[tuple[str, date]]] | None
Matcher = Callable[[asyncpg.Pool, Case], Awaitable[Answer]]

_ON_CONTACT = """
SELECT registry_id, given_names, family_name
FROM registry.match_keys
WHERE kind = $1 AND value = $2 AND birth_date = $3
ORDER BY registry_id
"""
_DOSES = """
SELECT cvx, occurred_on FROM registry.immunizations
WHERE registry_id = $1 AND status = 'completed'
"""


def _contact(case: Case) -> tuple[str, str] | None:
    if case.channel == "sms":
        phone = normalize_phone(case.address)
        return ("phone", phone) if phone else None
    email = normalize_email(case.address)
    return ("email", email) if email else None


def _upper(s: str) -> str:
    return s.strip().upper()


async def _record_doses(pool: asyncpg.Pool, registry_id: str) -> frozenset[tuple[str, date]]:
    return frozenset((r[0], r[1]) for r in await pool.fetch(_DOSES, registry_id))


async def _strict(pool: asyncpg.Pool, case: Case) -> Answer:
    contact = _contact(case)
    if contact is None:
        return None
    for row in await pool.fetch(_ON_CONTACT, *contact, case.birth_date):
        if _upper(row["given_names"]) == _upper(case.first_name) and _upper(
            row["family_name"]
        ) == _upper(case.last_name):
            return row["registry_id"], await _record_doses(pool, row["registry_id"])
    return None


async def _tiered(pool: asyncpg.Pool, case: Case) -> Answer:
    contact = _contact(case)
    if contact is None:
        return None
    ranked: dict[int, list[str]] = {}
    for row in await pool.fetch(_ON_CONTACT, *contact, case.birth_date):
        first = _upper(row["given_names"]) == _upper(case.first_name)
        last = _upper(row["family_name"]) == _upper(case.last_name)
        if first or last:
            ranked.setdefault(0 if first and last else 1 if first else 2, []).append(
                row["registry_id"]
            )
    if not ranked:
        return None
    best = ranked[min(ranked)]
    if len(best) != 1:
        return None
    return best[0], await _record_doses(pool, best[0])


def _vaxrec(reasons: Counter[str]) -> Matcher:
    async def match(pool: asyncpg.Pool, case: Case) -> Answer:
        contact = normalized_contact(Contact(channel=case.channel, address=case.address))
        if contact is None:
            reasons["unmatched:invalid-contact"] += 1
            return None
        outcome = await find_person(
            pool,
            first_name=case.first_name,
            last_name=case.last_name,
            birth_date=case.birth_date,
            contact=contact,
        )
        reasons[outcome.reason] += 1
        if outcome.registry_id is None:
            return None
        return outcome.registry_id, frozenset((d.cvx, d.occurred_on) for d in outcome.doses)

    return match


@dataclass
class Score:
    """One matcher on one variation."""

    cases: int = 0
    found: int = 0
    wrong: int = 0

    @property
    def recall(self) -> float:
        return self.found / self.cases if self.cases else 1.0


@dataclass
class Evaluation:
    """Scores by matcher and variation, and vaxrec's reasons."""

    residents: int
    scores: dict[str, dict[str, Score]] = field(default_factory=dict)
    reasons: Counter[str] = field(default_factory=Counter)
    seconds: float = 0.0

    def total(self, matcher: str, honest: bool) -> Score:
        names = HONEST if honest else IMPOSTORS
        out = Score()
        for v in names:
            s = self.scores[matcher].get(v, Score())
            out.cases += s.cases
            out.found += s.found
            out.wrong += s.wrong
        return out

    def wrong(self, matcher: str) -> int:
        return self.total(matcher, True).wrong + self.total(matcher, False).wrong

    @property
    def meets_targets(self) -> bool:
        return self.total("vaxrec", True).recall >= RECALL_TARGET and self.wrong("vaxrec") == 0

    def print(self, out: TextIO) -> None:
        head = "".join(f"{m + ' recall':>15}{'wrong':>7}" for m in MATCHERS)
        print(f"{'variation':<20}{'cases':>6}{head}", file=out)
        for honest, names in ((True, HONEST), (False, IMPOSTORS)):
            for v in names:
                cells = []
                for m in MATCHERS:
                    s = self.scores[m].get(v, Score())
                    recall = f"{s.recall:.1%}" if honest else "-"
                    cells.append(f"{recall:>15}{s.wrong:>7}")
                n = self.scores[MATCHERS[0]].get(v, Score()).cases
                print(f"{v:<20}{n:>6}{''.join(cells)}", file=out)
            label = "all honest" if honest else "all impostors"
            cells = []
            for m in MATCHERS:
                t = self.total(m, honest)
                recall = f"{t.recall:.2%}" if honest else "-"
                cells.append(f"{recall:>15}{t.wrong:>7}")
            n = self.total(MATCHERS[0], honest).cases
            print(f"{label:<20}{n:>6}{''.join(cells)}", file=out)
        print("vaxrec reasons: " + ", ".join(f"{r} {n}" for r, n in sorted(self.reasons.items())),
              file=out)  # fmt: skip
        verdict = "met" if self.meets_targets else "NOT met"
        print(
            f"targets (recall >= {RECALL_TARGET:.0%} on honest requests, no wrong person): "
            f"{verdict}; {self.residents} registry records, {self.seconds:.1f} s",
            file=out,
        )


def _judge(case: Case, answer: Answer, score: Score) -> None:
    score.cases += 1
    if answer is None:
        return
    registry_id, doses = answer
    if not case.honest or registry_id not in case.person:
        score.wrong += 1
    elif case.doses is None or doses == case.doses:
        score.found += 1


async def evaluate(
    pool: asyncpg.Pool, *, residents: int, seed: int = 1, per_variation: int = 200
) -> Evaluation:
    """Load the evaluation registry into the (empty, migrated) database and score the three
    matchers on every labelled request."""
    started = time.perf_counter()
    evalset = build(residents, seed, per_variation)
    summary = await import_records(pool, enumerate(evalset.registry, 1))
    if summary.rejected:
        raise RuntimeError(f"the evaluation registry has {summary.rejected} rejected records")
    result = Evaluation(residents=len(evalset.registry))
    matchers: dict[str, Matcher] = {
        "vaxrec": _vaxrec(result.reasons),
        "strict": _strict,
        "tiered": _tiered,
    }
    for name, matcher in matchers.items():
        scores = result.scores.setdefault(name, {})
        for case in evalset.cases:
            _judge(case, await matcher(pool, case), scores.setdefault(case.variation, Score()))
    result.seconds = time.perf_counter() - started
    return result


async def evaluate_throwaway(
    server_url: str, *, residents: int, seed: int = 1, per_variation: int = 200
) -> Evaluation:
    """`evaluate` in a new database on the server the URL names, dropped afterwards."""
    from vaxrec.migrate import apply_migrations, create_database, drop_database

    parts = urlsplit(server_url)
    url = urlunsplit(parts._replace(path=f"/vaxrec_eval_{secrets.token_hex(4)}"))
    await create_database(url)
    try:
        await asyncio.to_thread(apply_migrations, url)
        pool = await asyncpg.create_pool(url, min_size=1, max_size=2)
        try:
            return await evaluate(pool, residents=residents, seed=seed, per_variation=per_variation)
        finally:
            await pool.close()
    finally:
        await drop_database(url)
