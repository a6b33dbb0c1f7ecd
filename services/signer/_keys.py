"""Signing keys: read only by the signer (and by the operator's `vaxrec keys` commands).

A key source is either one private JWK file (that key is active), or a directory:

    <dir>/<kid>.json   one private P-256 JWK per key, mode 0600
    <dir>/ACTIVE       the kid that signs new cards

Rotation writes a new key and points ACTIVE at it; older keys stay, so the signer keeps
publishing their public halves and cards they signed keep verifying.
"""

from __future__ import annotations

import functools
import json
import os
from dataclasses import dataclass
from pathlib import Path

from joserfc.jwk import ECKey

from vaxrec.shc import generate_key, public_jwk

ACTIVE = "ACTIVE"


@dataclass(frozen=True)
class KeyRing:
    """The active signing key and every key whose public half stays published."""

    active: ECKey
    keys: tuple[ECKey, ...]

    @functools.cached_property
    def active_kid(self) -> str:  # a thumbprint per card would be needless work
        return str(self.active.thumbprint())


def _read_key(path: Path) -> ECKey:
    key = ECKey.import_key(json.loads(path.read_text()))
    if key.is_private is False or key.get("crv") != "P-256":
        raise ValueError(f"{path.name} is not a private P-256 key")
    return key


def load_keys(source: Path) -> KeyRing:
    if source.is_file():
        key = _read_key(source)
        return KeyRing(active=key, keys=(key,))
    if not source.is_dir():
        raise FileNotFoundError(f"no signing key at {source}")
    keys = {p.stem: _read_key(p) for p in sorted(source.glob("*.json"))}
    if not keys:
        raise FileNotFoundError(f"no signing key in {source}")
    active_file = source / ACTIVE
    active_kid = active_file.read_text().strip() if active_file.exists() else max(keys)
    if active_kid not in keys:
        raise ValueError(f"ACTIVE names {active_kid}, which is not in {source}")
    return KeyRing(active=keys[active_kid], keys=tuple(keys.values()))


def _write_private(path: Path, text: str) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as fp:
        fp.write(text)


def add_key(directory: Path, *, activate: bool) -> str:
    """Generate a key into `directory`; returns its kid."""
    directory.mkdir(parents=True, exist_ok=True, mode=0o700)
    key = generate_key()
    kid = str(key.thumbprint())
    _write_private(directory / f"{kid}.json", json.dumps(key.as_dict(private=True, kid=kid)))
    if activate:
        tmp = directory / f".{ACTIVE}.tmp"
        tmp.write_text(kid + "\n")
        tmp.replace(directory / ACTIVE)
    return kid


def ensure_key(directory: Path) -> tuple[str, bool]:
    """The active kid, generating a first key if the directory has none."""
    if directory.is_dir() and any(directory.glob("*.json")):
        return load_keys(directory).active_kid, False
    return add_key(directory, activate=True), True


def public_keys(ring: KeyRing) -> list[dict[str, object]]:
    return [public_jwk(k) for k in ring.keys]
