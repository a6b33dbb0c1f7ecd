"""Revoking cards: entries in a signing key's CRL, and `vaxrec cards revoke`.

A card's `vc.rid` is derived from the registry patient id and the signing key (see
`vaxrec.shc.rid`), so every card of one person under one key has the same rid. Revoking a card
therefore lists `rid.<t>` with t one second after the card's `nbf`: it and any older card of
that person under that key are revoked, and a card issued again afterwards stays valid.
`--forever` lists the bare rid instead, which revokes that person's later cards under the key
as well.

Each change to a key's list bumps the key's `crl_ctr` by one in the same transaction; the
database puts the same number in the published JWK as `crlVersion` (migration 0006).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import sys
import time
import uuid
from dataclasses import asdict, dataclass

import asyncpg
from pydantic import SecretStr

from vaxrec.settings import RuntimeSettings
from vaxrec.shc import decode_payload, rid

__all__ = ["RevocationError", "RevocationSettings", "Revoked", "crl_entry", "register"]

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/vaxrec"


class RevocationError(Exception):
    """A revocation that cannot be made (unknown card, a rid secret that does not match)."""


class RevocationSettings(RuntimeSettings):
    """What revoking by registry id needs: the signer's rid secret (VAXREC_RID_SECRET)."""

    rid_secret: SecretStr = SecretStr("dev-rid-secret-not-secret")


@dataclass(frozen=True)
class Revoked:
    """One CRL entry as it stands after a revocation."""

    kid: str
    rid: str
    entry: str
    ctr: int
    changed: bool
    cards_marked: int


def crl_entry(card_rid: str, revoked_before: int | None) -> str:
    """The CRL's spelling: `rid`, or `rid.<seconds>` when only older cards are revoked."""
    return card_rid if revoked_before is None else f"{card_rid}.{revoked_before}"


def _merged(existing: int | None, exists: bool, wanted: int | None) -> int | None:
    """One entry per rid (the spec allows no duplicates): the wider revocation wins."""
    if not exists:
        return wanted
    if existing is None or wanted is None:
        return None
    return max(existing, wanted)


def _nbf(jws: str | None) -> float | None:
    if jws is None:
        return None
    nbf = decode_payload(jws).get("nbf")
    return float(nbf) if isinstance(nbf, int | float) else None


async def _mark_cards(conn: asyncpg.Connection, kid: str, card_rid: str, before: int | None) -> int:
    """Flag the issued cards this entry revokes, so the record page stops showing them."""
    rows = await conn.fetch(
        "SELECT card_id, jws, file_jws FROM cards.issued_cards "
        "WHERE kid = $1 AND rid = $2 AND NOT revoked",
        kid,
        card_rid,
    )
    revoked = []
    for row in rows:
        nbfs = [n for n in (_nbf(row["jws"]), _nbf(row["file_jws"])) if n is not None]
        if before is None or (nbfs and min(nbfs) < before):
            revoked.append(row["card_id"])
    if revoked:
        await conn.execute(
            "UPDATE cards.issued_cards SET revoked = true WHERE card_id = ANY($1::uuid[])",
            revoked,
        )
    return len(revoked)


async def _add(conn: asyncpg.Connection, kid: str, card_rid: str, before: int | None) -> Revoked:
    async with conn.transaction():
        # The key row's lock orders concurrent revocations of one key: ctr moves by one each.
        ctr = await conn.fetchval(
            "SELECT crl_ctr FROM cards.issuer_keys WHERE kid = $1 FOR UPDATE", kid
        )
        if ctr is None:
            raise RevocationError(f"no published key {kid}")
        row = await conn.fetchrow(
            "SELECT revoked_before FROM cards.revoked_rids WHERE kid = $1 AND rid = $2",
            kid,
            card_rid,
        )
        existing = row["revoked_before"] if row else None
        merged = _merged(existing, row is not None, before)
        changed = row is None or merged != existing
        if changed:
            await conn.execute(
                "INSERT INTO cards.revoked_rids (kid, rid, revoked_before) VALUES ($1, $2, $3) "
                "ON CONFLICT (kid, rid) DO UPDATE "
                "SET revoked_before = EXCLUDED.revoked_before, revoked_at = now()",
                kid,
                card_rid,
                merged,
            )
            ctr = await conn.fetchval(
                "UPDATE cards.issuer_keys SET crl_ctr = crl_ctr + 1, updated_at = now() "
                "WHERE kid = $1 RETURNING crl_ctr",
                kid,
            )
        marked = await _mark_cards(conn, kid, card_rid, merged)
    return Revoked(kid, card_rid, crl_entry(card_rid, merged), ctr, changed, marked)


async def revoke_card(
    conn: asyncpg.Connection,
    *,
    card_id: uuid.UUID | None = None,
    request_id: uuid.UUID | None = None,
    forever: bool = False,
) -> Revoked:
    """Revoke one issued card (and any older card of the same person under its key)."""
    column, value = ("card_id", card_id) if card_id is not None else ("request_id", request_id)
    if value is None:
        raise RevocationError("name a card id or a request id")
    row = await conn.fetchrow(
        f"SELECT kid, rid, jws, file_jws FROM cards.issued_cards WHERE {column} = $1",  # noqa: S608 - column is one of two literals
        value,
    )
    if row is None:
        raise RevocationError(f"no issued card with {column.replace('_', ' ')} {value}")
    nbfs = [n for n in (_nbf(row["jws"]), _nbf(row["file_jws"])) if n is not None]
    if not nbfs:
        raise RevocationError("the card's JWS has no nbf")
    # `rid.<t>` revokes cards with nbf < t; the card's own nbf may have a fraction.
    before = None if forever else math.floor(max(nbfs)) + 1
    return await _add(conn, row["kid"], row["rid"], before)


async def revoke_patient(
    conn: asyncpg.Connection,
    registry_id: str,
    rid_secret: str,
    *,
    now: float,
    forever: bool = False,
) -> list[Revoked]:
    """Revoke every card issued so far to one registry patient, under every published key.

    The rid is recomputed for each key, so cards whose rows have since been purged are
    revoked too; a stored rid that disagrees means the secret is not the signer's.
    """
    kids = [r["kid"] for r in await conn.fetch("SELECT kid FROM cards.issuer_keys ORDER BY kid")]
    stored = await conn.fetch(
        "SELECT DISTINCT kid, rid FROM cards.issued_cards WHERE registry_id = $1", registry_id
    )
    for row in stored:
        if row["rid"] != rid(rid_secret, row["kid"], registry_id):
            raise RevocationError("VAXREC_RID_SECRET is not the secret the signer used")
    before = None if forever else math.floor(now) + 1
    return [await _add(conn, kid, rid(rid_secret, kid, registry_id), before) for kid in kids]


# --- the command --------------------------------------------------------------------------


def _database_url(args: argparse.Namespace) -> str:
    return str(args.database_url or os.environ.get("VAXREC_DATABASE_URL", DEFAULT_DATABASE_URL))


async def _revoke(args: argparse.Namespace) -> list[Revoked]:
    conn = await asyncpg.connect(_database_url(args))
    try:
        if args.registry_id is not None:
            secret = RevocationSettings().rid_secret.get_secret_value()
            return await revoke_patient(
                conn, args.registry_id, secret, now=time.time(), forever=args.forever
            )
        return [
            await revoke_card(
                conn, card_id=args.card_id, request_id=args.request_id, forever=args.forever
            )
        ]
    finally:
        await conn.close()


def cmd_revoke(args: argparse.Namespace) -> int:
    try:
        results = asyncio.run(_revoke(args))
    except RevocationError as err:
        print(f"vaxrec cards revoke: {err}", file=sys.stderr)
        return 1
    if args.json:
        json.dump([asdict(r) for r in results], sys.stdout, indent=2)
        print()
        return 0
    for r in results:
        state = "added" if r.changed else "already listed"
        print(f"{r.kid}  {r.entry}  {state}, CRL ctr {r.ctr}, {r.cards_marked} card(s) marked")
    return 0


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add `vaxrec cards revoke`."""
    cards = subparsers.add_parser("cards", help="issued cards: revoke")
    sub = cards.add_subparsers(dest="cards_command", required=True)
    p = sub.add_parser(
        "revoke",
        help="add a card's rid to its key's CRL",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    which = p.add_mutually_exclusive_group(required=True)
    which.add_argument("--card-id", type=uuid.UUID)
    which.add_argument("--request-id", type=uuid.UUID, help="the resident's request id")
    which.add_argument(
        "--registry-id", help="every card of this registry patient (needs VAXREC_RID_SECRET)"
    )
    p.add_argument(
        "--forever", action="store_true", help="list the bare rid: later cards are revoked too"
    )
    p.add_argument("--json", action="store_true")
    p.add_argument("--database-url")
    p.set_defaults(func=cmd_revoke)
