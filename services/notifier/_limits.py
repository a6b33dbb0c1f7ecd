"""At most N messages to one phone or email per window, counted in Postgres for every replica."""

from __future__ import annotations

import asyncio
import hashlib
import hmac

import asyncpg
import structlog

from contracts import Contact

log = structlog.get_logger("notifier")


def normalized(contact: Contact) -> str:
    """The form two spellings of one contact share: a phone's digits, an email lower-cased."""
    if contact.channel == "sms":
        return "sms:" + "".join(c for c in contact.address if c.isdigit())
    return "email:" + contact.address.strip().lower()


class ContactLimit:
    """At most `limit` messages per contact in a window that opens with its first message.

    The counting is done in the claim (`notify.begin_attempts`), under a row lock that orders
    every replica; this holds the key that hides the contact from the database, and purges.
    """

    def __init__(self, key: bytes, *, limit: int, window_s: int) -> None:
        self._key = key
        self.limit = limit
        self.window_s = window_s

    def contact_key(self, contact: Contact) -> bytes:
        """HMAC-SHA-256 of the contact: the only form in which the database sees it."""
        return hmac.new(self._key, normalized(contact).encode(), hashlib.sha256).digest()

    async def purge(self, pool: asyncpg.Pool) -> int:
        """Forget contacts whose window has passed; returns how many."""
        status: str = await pool.execute(
            "DELETE FROM notify.contact_windows "
            "WHERE window_start <= now() - make_interval(secs => $1)",
            float(self.window_s),
        )
        return int(status.split()[-1])

    async def purge_forever(self, pool: asyncpg.Pool, every_s: float = 600) -> None:
        """Purge on a timer for the life of the service."""
        while True:
            try:
                purged = await self.purge(pool)
                if purged:
                    log.info("contact_windows.purged", rows=purged)
            except (OSError, asyncpg.PostgresError):
                log.warning("contact_windows.purge_failed", exc_info=True)
            await asyncio.sleep(every_s)
