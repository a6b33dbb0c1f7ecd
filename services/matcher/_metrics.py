"""The matcher's own metric: outcomes by reason (never anything about the resident)."""

from __future__ import annotations

from prometheus_client import Counter

__all__ = ["MATCH_OUTCOMES"]

MATCH_OUTCOMES = Counter(
    "vaxrec_match_outcomes_total",
    "Record requests decided by the matcher, by reason (matched:<tier>[:<rule>], unmatched:<why>).",
    ["reason"],
)
