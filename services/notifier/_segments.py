"""How many SMS segments a text costs (GSM 03.38 and UCS-2, as carriers and Twilio count them)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

#: The GSM 03.38 default alphabet: one septet each.
GSM7_BASIC = frozenset(
    "@£$¥èéùìòÇ\nØø\rÅåΔ_ΦΓΛΩΠΨΣΘΞÆæßÉ !\"#¤%&'()*+,-./0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNOPQRSTUVWXYZÄÖÑÜ§¿abcdefghijklmnopqrstuvwxyzäöñüà"
)
#: The extension table: an escape septet plus one, so two each.
GSM7_EXTENSION = frozenset("\f^{}\\[~]|€")

_LIMITS = {"GSM-7": (160, 153), "UCS-2": (70, 67)}


@dataclass(frozen=True)
class Segments:
    """An SMS body's encoding, its length in that encoding's units, and its segment count."""

    encoding: Literal["GSM-7", "UCS-2"]
    units: int
    count: int


def count_segments(text: str) -> Segments:
    """Segments for `text`: one character outside GSM-7 makes the whole message UCS-2."""
    encoding: Literal["GSM-7", "UCS-2"]
    if all(c in GSM7_BASIC or c in GSM7_EXTENSION for c in text):
        encoding, costs = "GSM-7", [2 if c in GSM7_EXTENSION else 1 for c in text]
    else:
        # UTF-16 code units: a character beyond the BMP (an emoji) takes a surrogate pair.
        encoding, costs = "UCS-2", [2 if ord(c) > 0xFFFF else 1 for c in text]
    single, per_part = _LIMITS[encoding]
    units = sum(costs)
    if units <= single:
        return Segments(encoding, units, 1)
    # A concatenated message gives up 7 octets per part to its header, and an escape pair or a
    # surrogate pair is never split between parts, so count greedily rather than divide.
    count, used = 1, 0
    for cost in costs:
        if used + cost > per_part:
            count, used = count + 1, 0
        used += cost
    return Segments(encoding, units, count)
