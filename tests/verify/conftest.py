"""Real cards for verifier tests: issued by the signer's own handler into the real Postgres."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import asyncpg
import pytest
from joserfc.jwk import ECKey

from contracts import Envelope, RecordMatchedV1
from services.signer._keys import load_keys
from services.viewer._crl import load_crl
from tests.shc.builders import Vectors
from tests.support.builders import TEST_PEPPER
from tests.support.cards import ISSUER, issue_card, key_ring, record_matched, signer_settings
from vaxrec.hashing import token_hash

RID_SECRET = "test-rid-secret"  # what tests.support.cards.signer_settings gives the signer


@pytest.fixture
def vectors(shared_dir: Path) -> Vectors:
    return Vectors(shared_dir / "vectors" / "shc")


@dataclass(frozen=True)
class Issued:
    """A card the signer issued, as the database holds it."""

    token: str
    card_id: str
    request_id: str
    registry_id: str
    kid: str
    rid: str
    jws: str
    key: ECKey  # the signer's private key, for tests that forge a variant


async def issue(
    db: asyncpg.Pool,
    keys: Path,
    *,
    issuer: str = ISSUER,
    envelope: Envelope[RecordMatchedV1] | None = None,
) -> Issued:
    key_ring(keys)
    token = await issue_card(db, signer_settings(keys, issuer=issuer), envelope or record_matched())
    row = await db.fetchrow(
        "SELECT card_id, request_id, registry_id, kid, rid, jws FROM cards.issued_cards "
        "WHERE token_hash = $1",
        token_hash(TEST_PEPPER, token),
    )
    assert row is not None
    return Issued(
        token=token,
        card_id=str(row["card_id"]),
        request_id=str(row["request_id"]),
        registry_id=row["registry_id"],
        kid=row["kid"],
        rid=row["rid"],
        jws=row["jws"],
        key=load_keys(keys).active,
    )


@pytest.fixture
async def issued(db: asyncpg.Pool, tmp_path: Path) -> Issued:
    return await issue(db, tmp_path / "keys")


async def trust_snapshot(db: asyncpg.Pool, *, iss: str = ISSUER) -> dict[str, Any]:
    """A VCI directory snapshot naming this issuer, with its published keys and CRLs."""
    keys = [r["public_jwk"] for r in await db.fetch("SELECT public_jwk FROM cards.issuer_keys")]
    crls: list[dict[str, Any]] = []
    for key in keys:
        if (crl := await load_crl(db, key["kid"])) is not None:
            crls.append(crl)
    snapshot = {
        "directory": "https://example.org/vci-directory",
        "time": "2026-01-01T00:00:00Z",
        "issuerInfo": [
            {"issuer": {"iss": iss, "name": "Test Registry"}, "keys": keys, "crls": crls}
        ],
    }
    return snapshot


async def write_trust_file(db: asyncpg.Pool, path: Path, *, iss: str = ISSUER) -> Path:
    """`trust_snapshot` written to `path`."""
    snapshot = await trust_snapshot(db, iss=iss)
    await asyncio.to_thread(path.write_text, json.dumps(snapshot))
    return path
