"""Where a verifier finds issuers' keys and revocation lists: small Protocols and sources.

`HttpIssuers` (in `_fetch.py`) fetches `<iss>/.well-known/jwks.json` and implements the same
Protocols; `FirstOf` puts a trust directory's keys before fetched ones.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

Jwk = dict[str, Any]
Crl = dict[str, Any]


@runtime_checkable
class KeySource(Protocol):
    """Gives the public JWKs an issuer publishes."""

    async def keys_for(self, iss: str) -> list[Jwk]:
        """The issuer's JWKS `keys` list; empty when the issuer is unknown."""
        ...


@runtime_checkable
class CrlSource(Protocol):
    """Gives the revocation list of one issuer key."""

    async def crl_for(self, iss: str, kid: str) -> Crl | None:
        """The CRL `{kid, method, ctr, rids}` of the key, or None when there is none."""
        ...


def _keys_of(jwks: Mapping[str, Any] | Sequence[Mapping[str, Any]]) -> list[Jwk]:
    keys = jwks.get("keys", []) if isinstance(jwks, Mapping) else jwks
    return [dict(k) for k in keys]


class StaticKeys:
    """Keys held in memory, by issuer: each value a JWKS `{"keys": [...]}` or a list of JWKs."""

    def __init__(self, jwks_by_iss: Mapping[str, Mapping[str, Any] | Sequence[Mapping[str, Any]]]):
        self._keys = {iss: _keys_of(jwks) for iss, jwks in jwks_by_iss.items()}

    async def keys_for(self, iss: str) -> list[Jwk]:
        """The keys given for `iss`."""
        return list(self._keys.get(iss, []))


class StaticCrls:
    """Revocation lists held in memory, by issuer."""

    def __init__(self, crls_by_iss: Mapping[str, Iterable[Mapping[str, Any]]]):
        self._crls = {
            (iss, crl["kid"]): dict(crl) for iss, crls in crls_by_iss.items() for crl in crls
        }

    async def crl_for(self, iss: str, kid: str) -> Crl | None:
        """The CRL given for this issuer's key."""
        return self._crls.get((iss, kid))


@dataclass(frozen=True)
class DirectoryIssuer:
    """One entry of a VCI directory snapshot."""

    iss: str
    name: str
    keys: list[Jwk] = field(default_factory=list)
    crls: dict[str, Crl] = field(default_factory=dict)


class DirectoryKeys:
    """A VCI directory snapshot: the trusted issuers, their keys and their CRLs."""

    def __init__(self, issuers: Iterable[DirectoryIssuer]):
        self._issuers = {i.iss: i for i in issuers}

    @classmethod
    def from_vci(cls, snapshot: Mapping[str, Any]) -> DirectoryKeys:
        """Read the snapshot format `{issuerInfo: [{issuer: {iss, name}, keys, crls?}]}`."""
        return cls(
            DirectoryIssuer(
                iss=info["issuer"]["iss"],
                name=info["issuer"].get("name", info["issuer"]["iss"]),
                keys=_keys_of(info.get("keys", [])),
                crls={crl["kid"]: dict(crl) for crl in info.get("crls", [])},
            )
            for info in snapshot.get("issuerInfo", [])
        )

    @classmethod
    def from_vci_file(cls, path: str | Path) -> DirectoryKeys:
        """Read a snapshot file such as `vci-snapshot.json`."""
        return cls.from_vci(json.loads(Path(path).read_text(encoding="utf-8")))

    @classmethod
    def from_trust(cls, document: Any) -> DirectoryKeys:
        """Read any of the VCI directory's shapes.

        - the daily snapshot `{issuerInfo: [{issuer: {iss, name}, keys, crls?}]}`;
        - the issuer list `vci-issuers.json`, `{participating_issuers: [{iss, name, ...}]}`,
          which names trusted issuers without keys (their keys are then fetched);
        - a bare list of entries, each `{iss, name, keys?, crls?}` or a snapshot entry.
        """
        if isinstance(document, Mapping) and "issuerInfo" in document:
            return cls.from_vci(document)
        if isinstance(document, Mapping) and "participating_issuers" in document:
            document = document["participating_issuers"]
        if not isinstance(document, list):
            raise ValueError("not a VCI directory: no issuerInfo or participating_issuers")
        issuers = []
        for raw in document:
            entry = (
                {**raw["issuer"], **raw} if isinstance(raw, Mapping) and "issuer" in raw else raw
            )
            if not isinstance(entry, Mapping) or not isinstance(entry.get("iss"), str):
                raise ValueError("a directory entry without iss")
            issuers.append(
                DirectoryIssuer(
                    iss=entry["iss"],
                    name=str(entry.get("name") or entry["iss"]),
                    keys=_keys_of(entry.get("keys", [])),
                    crls={crl["kid"]: dict(crl) for crl in entry.get("crls", [])},
                )
            )
        return cls(issuers)

    @classmethod
    def from_trust_file(cls, path: str | Path) -> DirectoryKeys:
        """Read a trust file in any shape `from_trust` takes."""
        return cls.from_trust(json.loads(Path(path).read_text(encoding="utf-8")))

    @property
    def issuers(self) -> frozenset[str]:
        """Every `iss` in the directory: pass it to `verify` as `trusted_issuers`."""
        return frozenset(self._issuers)

    def name_of(self, iss: str) -> str | None:
        """The issuer's display name, or None when it is not in the directory."""
        entry = self._issuers.get(iss)
        return entry.name if entry else None

    async def keys_for(self, iss: str) -> list[Jwk]:
        """The issuer's keys as the snapshot lists them."""
        entry = self._issuers.get(iss)
        return list(entry.keys) if entry else []

    async def crl_for(self, iss: str, kid: str) -> Crl | None:
        """The key's CRL as the snapshot carries it."""
        entry = self._issuers.get(iss)
        return entry.crls.get(kid) if entry else None


class FirstOf:
    """Several sources asked in turn: the first that has keys (or a CRL) for the issuer answers."""

    def __init__(self, *sources: KeySource | CrlSource) -> None:
        self._sources = sources

    async def keys_for(self, iss: str) -> list[Jwk]:
        """The first non-empty key list."""
        for source in self._sources:
            if isinstance(source, KeySource) and (keys := await source.keys_for(iss)):
                return keys
        return []

    async def crl_for(self, iss: str, kid: str) -> Crl | None:
        """The first CRL found."""
        for source in self._sources:
            if isinstance(source, CrlSource) and (crl := await source.crl_for(iss, kid)):
                return crl
        return None
