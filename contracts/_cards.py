"""Messages about issued cards."""

from __future__ import annotations

import uuid
from datetime import datetime

from pydantic import Field

from contracts._envelope import Contract
from contracts._records import Contact


class CardIssuedV1(Contract):
    """A card was signed and stored; the notifier sends its link (published by signer).

    The only message that carries a link token: the notifier needs it to build the link.
    """

    TYPE = "card.issued"
    VERSION = 1

    request_id: uuid.UUID
    card_id: uuid.UUID
    link_token: str = Field(min_length=43, max_length=43)
    expires_at: datetime
    contact: Contact
    language: str
