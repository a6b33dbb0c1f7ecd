"""Keys and CRLs fetched from the issuer itself, with a timeout and a cache.

`<iss>/.well-known/jwks.json` and `<iss>/.well-known/crl/<kid>.json`, as the spec places them.
Fetched only for an issuer the caller already trusts (`verify` asks a source about trusted
issuers only), never through a redirect, and never more than `max_bytes`.

A JWKS is kept for its `Cache-Control: max-age` (within [`min_ttl`, `max_ttl`]), in memory and,
when `cache_dir` is given, on disk so that the next `vaxrec verify` run need not fetch again.
A CRL is kept in memory only: revocations should be seen as soon as they are published.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import aiohttp

from vaxrec.shc._errors import SourceUnavailable
from vaxrec.shc._sources import Crl, Jwk

_MAX_AGE = re.compile(r"(?:^|,)\s*max-age\s*=\s*(\d+)", re.IGNORECASE)
_KID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class HttpIssuers:
    """A key and CRL source that asks each issuer over HTTPS."""

    def __init__(
        self,
        *,
        timeout_s: float = 5.0,
        cache_dir: Path | None = None,
        min_ttl_s: float = 60.0,
        max_ttl_s: float = 24 * 3600.0,
        crl_ttl_s: float = 60.0,
        max_bytes: int = 512 * 1024,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._timeout = aiohttp.ClientTimeout(total=timeout_s)
        self._cache_dir = cache_dir
        self._min_ttl, self._max_ttl, self._crl_ttl = min_ttl_s, max_ttl_s, crl_ttl_s
        self._max_bytes = max_bytes
        self._clock = clock
        self._memory: dict[str, tuple[float, Any]] = {}
        self._session: aiohttp.ClientSession | None = None
        #: URLs actually fetched over the network, in order (what the cache saved is visible).
        self.fetched: list[str] = []

    async def __aenter__(self) -> HttpIssuers:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()
            self._session = None

    def _ttl(self, cache_control: str | None, default: float) -> float:
        match = _MAX_AGE.search(cache_control or "")
        ttl = float(match.group(1)) if match else default
        return min(max(ttl, self._min_ttl), self._max_ttl)

    def _disk_path(self, url: str) -> Path | None:
        if self._cache_dir is None:
            return None
        return self._cache_dir / (hashlib.sha256(url.encode()).hexdigest()[:32] + ".json")

    def _cached(self, url: str) -> Any | None:
        now = self._clock()
        if url in self._memory and self._memory[url][0] > now:
            return self._memory[url][1]
        path = self._disk_path(url)
        if path is None or not path.is_file():
            return None
        try:
            entry = json.loads(path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(entry, dict) or entry.get("url") != url:
            return None
        if not isinstance(entry.get("expires"), float | int) or entry["expires"] <= now:
            return None
        self._memory[url] = (entry["expires"], entry["body"])
        return entry["body"]

    def _store(self, url: str, body: Any, expires: float, *, disk: bool) -> None:
        self._memory[url] = (expires, body)
        path = self._disk_path(url)
        if disk and path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            tmp = path.with_suffix(".tmp")
            tmp.write_text(json.dumps({"url": url, "expires": expires, "body": body}))
            tmp.replace(path)

    async def _get(self, url: str) -> tuple[int, Any, str | None]:
        """(status, JSON body or None, Cache-Control) of one GET."""
        if self._session is None:
            self._session = aiohttp.ClientSession(timeout=self._timeout)
        self.fetched.append(url)
        try:
            async with self._session.get(
                url, allow_redirects=False, headers={"Accept": "application/json"}
            ) as response:
                if response.status != 200:
                    return response.status, None, None
                raw = await response.content.read(self._max_bytes + 1)
                if len(raw) > self._max_bytes:
                    raise SourceUnavailable(f"{url}: larger than {self._max_bytes} bytes")
                return 200, json.loads(raw), response.headers.get("Cache-Control")
        except (aiohttp.ClientError, TimeoutError, ValueError) as err:
            raise SourceUnavailable(f"{url}: {type(err).__name__}") from err

    async def keys_for(self, iss: str) -> list[Jwk]:
        """The issuer's published keys; raises SourceUnavailable when they cannot be fetched."""
        url = f"{iss}/.well-known/jwks.json"
        body = self._cached(url)
        if body is None:
            status, body, cache_control = await self._get(url)
            keys = body.get("keys") if isinstance(body, dict) else None
            if status != 200 or not isinstance(keys, list):
                raise SourceUnavailable(f"{url}: HTTP {status}, no key list")
            expires = self._clock() + self._ttl(cache_control, self._max_ttl)
            self._store(url, body, expires, disk=True)
        return [dict(k) for k in body["keys"] if isinstance(k, dict)]

    async def crl_for(self, iss: str, kid: str) -> Crl | None:
        """The key's CRL, or None when the issuer publishes none (HTTP 404)."""
        if not _KID.match(kid):
            return None
        url = f"{iss}/.well-known/crl/{kid}.json"
        body = self._cached(url)
        if body is None:
            status, body, _ = await self._get(url)
            if status == 404:
                return None
            if status != 200 or not isinstance(body, dict):
                raise SourceUnavailable(f"{url}: HTTP {status}")
            self._store(url, body, self._clock() + self._crl_ttl, disk=False)
        return dict(body)
