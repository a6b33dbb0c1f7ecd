"""Opening a card: the link token finds it, the PIN unlocks it, five wrong PINs lock it."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

import asyncpg

from vaxrec.hashing import pin_matches, token_hash


class Refusal(enum.Enum):
    """Why a card was not shown. The API answers all of them alike; pages may say more."""

    UNKNOWN = "unknown"
    EXPIRED = "expired"
    LOCKED = "locked"
    #: `vaxrec cards revoke`: the card itself, and any QR saved from it, is no longer valid.
    REVOKED = "revoked"
    WRONG_PIN = "wrong-pin"


@dataclass(frozen=True)
class OpenedCard:
    """A card whose PIN was right."""

    card_id: str
    jws: str
    file_jws: str
    doses_total: int
    doses_in_qr: int
    expires_at: datetime
    #: The language the resident asked in: the pages open in it.
    language: str = "en"


@dataclass(frozen=True)
class Refused:
    reason: Refusal
    attempts_left: int = 0


_FIND = """
SELECT card_id, jws, file_jws, pin_hash, pin_salt, doses_total, doses_in_qr, expires_at,
       language, failed_pin_attempts, locked, revoked, expires_at <= now() AS expired
FROM cards.issued_cards WHERE token_hash = $1
"""

# Counted in the database, atomically, so replicas share one attempt budget.
_WRONG_PIN = """
UPDATE cards.issued_cards
SET failed_pin_attempts = failed_pin_attempts + 1,
    locked = failed_pin_attempts + 1 >= $2
WHERE card_id = $1 AND NOT locked
RETURNING failed_pin_attempts
"""


async def open_card(
    pool: asyncpg.Pool, pepper: bytes, token: str, pin: str, *, max_attempts: int
) -> OpenedCard | Refused:
    if len(token) != 43:
        return Refused(Refusal.UNKNOWN)
    row = await pool.fetchrow(_FIND, token_hash(pepper, token))
    if row is None:
        return Refused(Refusal.UNKNOWN)
    refusal = _refusal(row)
    if refusal is not None:
        return Refused(refusal)
    if not pin_matches(pepper, bytes(row["pin_salt"]), pin, bytes(row["pin_hash"])):
        failed = await pool.fetchval(_WRONG_PIN, row["card_id"], max_attempts)
        if failed is None or failed >= max_attempts:
            return Refused(Refusal.LOCKED)
        return Refused(Refusal.WRONG_PIN, attempts_left=max_attempts - failed)
    return _opened(row)


def _refusal(row: asyncpg.Record) -> Refusal | None:
    # Revoked first: it is the one that also says a saved QR no longer verifies.
    if row["revoked"]:
        return Refusal.REVOKED
    if row["expired"]:
        return Refusal.EXPIRED
    if row["locked"]:
        return Refusal.LOCKED
    return None


def _opened(row: asyncpg.Record) -> OpenedCard:
    return OpenedCard(
        card_id=str(row["card_id"]),
        jws=row["jws"],
        file_jws=row["file_jws"] or row["jws"],
        doses_total=row["doses_total"],
        doses_in_qr=row["doses_in_qr"],
        expires_at=row["expires_at"],
        language=row["language"],
    )


_VALID = """
SELECT card_id, jws, file_jws, doses_total, doses_in_qr, expires_at, language
FROM cards.issued_cards
WHERE token_hash = $1 AND expires_at > now() AND NOT locked AND NOT revoked
"""


async def card_for_session(pool: asyncpg.Pool, pepper: bytes, token: str) -> OpenedCard | None:
    """The card a link names, if it may still be shown (the caller checks the PIN session)."""
    if len(token) != 43:
        return None
    row = await pool.fetchrow(_VALID, token_hash(pepper, token))
    return None if row is None else _opened(row)


@dataclass(frozen=True)
class Link:
    """What the PIN page may say about a link before any PIN: its language, and whether it is
    already unusable (only the holder of the 256-bit token can ask)."""

    language: str
    refusal: Refusal | None


_LINK = """
SELECT language, expires_at <= now() AS expired, locked, revoked
FROM cards.issued_cards WHERE token_hash = $1
"""


async def link_state(pool: asyncpg.Pool, pepper: bytes, token: str) -> Link | None:
    """The link's language and refusal, or None for a token no card has."""
    if len(token) != 43:
        return None
    row = await pool.fetchrow(_LINK, token_hash(pepper, token))
    if row is None:
        return None
    return Link(row["language"], _refusal(row))
