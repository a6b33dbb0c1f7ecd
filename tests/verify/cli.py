"""Running `vaxrec verify` in this process and reading what it printed."""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import pytest

from vaxrec.cli import main


@dataclass(frozen=True)
class Run:
    code: int
    out: str
    err: str

    @property
    def cards(self) -> list[dict[str, Any]]:
        cards: list[dict[str, Any]] = json.loads(self.out)["cards"]
        return cards

    @property
    def reasons(self) -> list[list[str]]:
        return [[r["code"] for r in card["reasons"]] for card in self.cards]


def run(capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    capsys.readouterr()
    code = main(["verify", *args])
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)


async def run_async(capsys: pytest.CaptureFixture[str], *args: str) -> Run:
    """The CLI from an async test: it runs its own event loop, so in a thread."""
    capsys.readouterr()
    code = await asyncio.to_thread(main, ["verify", *args])
    captured = capsys.readouterr()
    return Run(code, captured.out, captured.err)
