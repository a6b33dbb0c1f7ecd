"""Rendering a notification from the message files (a translator edits text, never code)."""

from __future__ import annotations

import functools
from dataclasses import dataclass
from pathlib import Path

MESSAGES = Path(__file__).parent / "messages"
DEFAULT_LANGUAGE = "en"


@dataclass(frozen=True)
class Rendered:
    """A message ready for a channel."""

    subject: str
    body: str


@functools.cache
def _read(language: str, name: str) -> str:
    return (MESSAGES / language / f"{name}.txt").read_text(encoding="utf-8").strip()


def pick_language(tag: str) -> str:
    """The best language we have for a BCP 47 tag, falling back to English."""
    parts = tag.replace("_", "-").split("-")
    for candidate in ("-".join(parts[:2]), parts[0].lower()):
        if (MESSAGES / candidate).is_dir():
            return candidate
    return DEFAULT_LANGUAGE


def render(message: str, language: str, **values: str) -> Rendered:
    lang = pick_language(language)
    return Rendered(
        subject=_read(lang, f"{message}.subject"),
        body=_read(lang, message).format(**values),
    )
