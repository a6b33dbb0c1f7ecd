"""Publishing the public halves of the signer's keys for the viewer's JWKS."""

from __future__ import annotations

import asyncpg

from services.signer._keys import KeyRing
from vaxrec.shc import public_jwk


async def publish_public_keys(pool: asyncpg.Pool, ring: KeyRing) -> None:
    """Upsert every key: the active one 'active', the others 'retired' (a revoked key stays
    revoked: revocation is an operator's decision, never undone by a restart)."""
    async with pool.acquire() as conn, conn.transaction():
        for key in ring.keys:
            kid = str(key.thumbprint())
            await conn.execute(
                """
                INSERT INTO cards.issuer_keys (kid, public_jwk, state)
                VALUES ($1, $2, $3)
                ON CONFLICT (kid) DO UPDATE
                SET state = CASE WHEN cards.issuer_keys.state = 'revoked' THEN 'revoked'
                                 ELSE EXCLUDED.state END,
                    public_jwk = EXCLUDED.public_jwk,
                    updated_at = now()
                WHERE cards.issuer_keys.state IS DISTINCT FROM EXCLUDED.state
                   OR cards.issuer_keys.public_jwk IS DISTINCT FROM EXCLUDED.public_jwk
                """,
                kid,
                public_jwk(key),
                "active" if kid == ring.active_kid else "retired",
            )
