"""Request ids: UUIDv7, so the id itself says when the resident asked.

A request id is the correlation id of every message and log line a request causes. Being
time-ordered (RFC 9562 version 7: the first 48 bits are Unix milliseconds), it lets the last
service measure the whole journey without a timestamp in every contract, and it keeps inserts
into the indexes keyed by request id close together.
"""

from __future__ import annotations

import time
import uuid

import uuid6


def new_request_id() -> uuid.UUID:
    return uuid.UUID(int=uuid6.uuid7().int)


def seconds_since_request(request_id: uuid.UUID, *, now: float | None = None) -> float | None:
    """How long ago the request was made; None for an id that carries no time (not v7)."""
    if request_id.version != 7:
        return None
    requested_ms = request_id.int >> 80
    return (time.time() if now is None else now) - requested_ms / 1000
