"""Revocation lists at `<iss>/.well-known/crl/<kid>.json`, and this issuer's own keys and CRLs
as a key source for the /verify page.

`vaxrec cards revoke` writes `cards.revoked_rids` and bumps the key's `crl_ctr`; the CRL and
the JWK's `crlVersion` are both read from those rows, so they cannot disagree.
"""

from __future__ import annotations

from typing import Any

import asyncpg
from aiohttp import web

from services.viewer._settings import ViewerSettings
from vaxrec.problems import problem

KID_PATTERN = "[A-Za-z0-9_-]{43}"

# One statement, so the counter and the entries come from one snapshot.
_CRL = """
SELECT k.crl_ctr,
       coalesce(array_agg(r.rid || coalesce('.' || r.revoked_before, '') ORDER BY r.rid)
                FILTER (WHERE r.rid IS NOT NULL), '{}') AS rids
FROM cards.issuer_keys k LEFT JOIN cards.revoked_rids r ON r.kid = k.kid
WHERE k.kid = $1 AND k.state IN ('active', 'retired')
GROUP BY k.kid, k.crl_ctr
"""

_KEYS = "SELECT public_jwk FROM cards.issuer_keys WHERE state IN ('active', 'retired') ORDER BY kid"


async def load_crl(pool: asyncpg.Pool, kid: str) -> dict[str, Any] | None:
    """The key's CRL `{kid, method, ctr, rids}`, or None for an unknown key or one never used."""
    row = await pool.fetchrow(_CRL, kid)
    if row is None or row["crl_ctr"] == 0:
        return None
    return {"kid": kid, "method": "rid", "ctr": row["crl_ctr"], "rids": list(row["rids"])}


class IssuerRecords:
    """This issuer's published keys and CRLs, straight from the database (no HTTP round trip)."""

    def __init__(self, pool: asyncpg.Pool, issuer: str) -> None:
        self._pool = pool
        self._issuer = issuer

    async def keys_for(self, iss: str) -> list[dict[str, Any]]:
        """Our keys for our `iss`; nothing for any other issuer."""
        if iss != self._issuer:
            return []
        return [dict(r["public_jwk"]) for r in await self._pool.fetch(_KEYS)]

    async def crl_for(self, iss: str, kid: str) -> dict[str, Any] | None:
        """Our CRL of the key."""
        return await load_crl(self._pool, kid) if iss == self._issuer else None


def crl_handler(pool: asyncpg.Pool, settings: ViewerSettings) -> web.RouteDef:
    """GET /.well-known/crl/{kid}.json, readable from any origin like the JWKS."""

    async def crl(request: web.Request) -> web.Response:
        headers = {"Access-Control-Allow-Origin": "*"}
        body = await load_crl(pool, request.match_info["kid"])
        if body is None:
            return problem(404, "Not Found", "This key has no revocation list.", headers=headers)
        headers["Cache-Control"] = f"public, max-age={settings.crl_max_age_s}"
        return web.json_response(body, headers=headers)

    return web.get(f"/.well-known/crl/{{kid:{KID_PATTERN}}}.json", crl)
