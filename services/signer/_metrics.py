"""The signer's own metrics."""

from __future__ import annotations

from prometheus_client import Counter

CARDS_ISSUED = Counter(
    "vaxrec_cards_issued_total",
    "Cards signed and committed, by the size-policy step that made the QR fit "
    "(full, no-performer, no-lot, fewer-doses).",
    ["size_policy"],
)
