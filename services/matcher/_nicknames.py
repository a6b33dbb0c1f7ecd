"""The nickname table (nicknames.csv beside this module), read once."""

from __future__ import annotations

import functools
from importlib import resources

from vaxrec.registry import name_key

__all__ = ["Nicknames", "load_nicknames"]


class Nicknames:
    """Which given-name keys are a formal name and one of its nicknames, in either direction."""

    def __init__(self, lines: list[str]) -> None:
        self._related: dict[str, set[str]] = {}
        for number, line in enumerate(lines, 1):
            line = line.strip()
            if not line or line.startswith("#"):
                continue
            formal, *nicknames = (name_key(n) for n in line.split(","))
            if not formal or not nicknames or not all(nicknames):
                raise ValueError(f"nicknames line {number}: expected formal,nickname,...")
            for nickname in nicknames:
                if nickname == formal:
                    continue
                self._related.setdefault(formal, set()).add(nickname)
                self._related.setdefault(nickname, set()).add(formal)

    def related(self, a: str, b: str) -> bool:
        """True if one key is a formal name and the other one of its nicknames."""
        return b in self._related.get(a, ())

    def __len__(self) -> int:
        return len(self._related)


@functools.cache
def load_nicknames() -> Nicknames:
    text = resources.files("services.matcher").joinpath("nicknames.csv").read_text("utf-8")
    return Nicknames(text.splitlines())
