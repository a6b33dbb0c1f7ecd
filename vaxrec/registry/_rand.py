"""Cheap random draws: the generator makes some fifty per resident, ten million residents long."""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import TypeVar

__all__ = ["FastRandom"]

T = TypeVar("T")


class FastRandom(random.Random):
    """random.Random with draws that skip randrange's argument checks (several times faster)."""

    def below(self, n: int) -> int:
        """An integer in [0, n)."""
        return int(self.random() * n)

    def between(self, lo: int, hi: int) -> int:
        """An integer in [lo, hi], both ends included."""
        return lo + int(self.random() * (hi - lo + 1))

    def pick(self, items: Sequence[T]) -> T:
        """One item of a non-empty sequence."""
        return items[int(self.random() * len(items))]
