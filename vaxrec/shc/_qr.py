"""The card as a QR code: the numeric `shc:/` text, its (deprecated) chunked form, and images.

A QR holds two segments, `shc:/` in byte mode and the digits in numeric mode; one byte-mode
segment would need version 29 instead of 18 for a typical card (checklist pitfall 8).
"""

from __future__ import annotations

import functools
import io
import math
import re
from collections.abc import Sequence
from typing import Any

import segno

from vaxrec.shc._errors import InvalidCard, ShcError

MAX_VERSION = 22
SINGLE_MAX = 1195
CHUNK_MAX = 1191  # a `shc:/C/N/` prefix costs the digits of four characters
BORDER = 4  # the quiet zone the QR standard asks for

# Base64url characters are '-' (45) to 'z' (122): two digits each, '-' -> 00, 'z' -> 77.
_TO_DIGITS = {c: f"{c - 45:02d}" for c in range(45, 123)}
_QR_TEXT = re.compile(r"^shc:/(?:(\d+)/(\d+)/)?(\d*)$", re.IGNORECASE | re.ASCII)


def _checked_digits(jws: str) -> str:
    digits = jws.translate(_TO_DIGITS)
    # translate() leaves unmapped characters as they are, one character instead of two digits.
    if len(digits) != 2 * len(jws):
        raise ShcError("a JWS is ASCII between '-' and 'z' (base64url and dots)")
    return digits


def qr_text(jws: str) -> str:
    """The single-QR text: `shc:/` and two digits per JWS character (ord(c) - 45)."""
    return "shc:/" + _checked_digits(jws)


def qr_chunks(jws: str) -> list[str]:
    """The deprecated multi-QR form `shc:/C/N/…`, in balanced chunks; one chunk when it fits."""
    if len(jws) <= SINGLE_MAX:
        return [qr_text(jws)]
    count = math.ceil(len(jws) / CHUNK_MAX)
    size = math.ceil(len(jws) / count)
    return [
        f"shc:/{i + 1}/{count}/" + _checked_digits(jws[i * size : (i + 1) * size])
        for i in range(count)
    ]


def _undigit(digits: str) -> str:
    if not digits or len(digits) % 2:
        raise InvalidCard("qr-malformed", "the numeric part must be a non-empty even count")
    chars = []
    for i in range(0, len(digits), 2):
        value = int(digits[i : i + 2])
        if value > 77:
            raise InvalidCard("qr-malformed", f"digit pair {value} is out of range")
        chars.append(chr(value + 45))
    return "".join(chars)


def decode_qr_text(texts: str | Sequence[str]) -> str:
    """The JWS inside one `shc:/` QR text, or inside every chunk of a chunked card, any order."""
    # A chunk scanned twice is not an error: keep each distinct text once.
    items = list(dict.fromkeys(t.strip() for t in ([texts] if isinstance(texts, str) else texts)))
    if not items:
        raise InvalidCard("qr-malformed", "no QR text")
    chunks: dict[int, str] = {}
    total: int | None = None
    for raw in items:
        match = _QR_TEXT.match(raw)
        if not match:
            raise InvalidCard("qr-malformed", "not a shc:/ text")
        index, count, digits = match.groups()
        if index is None:
            if len(items) != 1:
                raise InvalidCard("qr-chunk-mismatch", "a whole-card QR among chunks")
            return _undigit(digits)
        c, n = int(index), int(count)
        if total is not None and n != total:
            raise InvalidCard("qr-chunk-mismatch", "chunks disagree on their count")
        if not 1 <= c <= n:
            raise InvalidCard("qr-chunk-mismatch", f"chunk {c} of {n}")
        if c in chunks:
            raise InvalidCard("qr-chunk-mismatch", f"two different chunks numbered {c}")
        total = n
        chunks[c] = _undigit(digits)
    assert total is not None
    if len(chunks) != total:
        missing = sorted(set(range(1, total + 1)) - set(chunks))
        raise InvalidCard("qr-incomplete", f"missing chunks {missing}")
    return "".join(chunks[c] for c in range(1, total + 1))


def make_qr(jws: str) -> segno.QRCode:
    """The QR symbol: byte-mode `shc:/` then numeric digits, level L, version at most 22."""
    digits = _checked_digits(jws)
    # segno's annotations name only a single content, but it takes (content, mode) segments.
    segments: Any = [("shc:/", segno.consts.MODE_BYTE), (digits, segno.consts.MODE_NUMERIC)]
    qr = segno.make(segments, error="l", boost_error=False, micro=False)
    if not isinstance(qr.version, int) or qr.version > MAX_VERSION:
        raise ShcError(f"a {len(jws)}-character JWS needs QR version {qr.version} (max 22)")
    return qr


@functools.lru_cache(maxsize=256)
def render_qr_svg(jws: str) -> str:
    """The card's QR as inline SVG (no XML declaration), cached per JWS."""
    qr = make_qr(jws)
    return str(qr.svg_inline(scale=4, border=BORDER, title="SMART Health Card"))


@functools.lru_cache(maxsize=64)
def render_qr_png(jws: str, scale: int = 4) -> bytes:
    """The card's QR as a PNG, `scale` pixels per module, cached per JWS and scale."""
    out = io.BytesIO()
    make_qr(jws).save(out, kind="png", scale=scale, border=BORDER)
    return out.getvalue()
