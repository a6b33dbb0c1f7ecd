"""Matcher: finds the requesting resident in the registry (record.requested → matched/unmatched)."""
