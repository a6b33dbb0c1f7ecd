"""Matcher: finds the requesting resident in the registry (record.requested → matched/unmatched).

`find_person` is the whole decision (lookup, rules, doses); the service's handler and
`vaxrec registry evaluate` both call it.
"""

from services.matcher._match import Outcome, find_person, normalized_contact

__all__ = ["Outcome", "find_person", "normalized_contact"]
