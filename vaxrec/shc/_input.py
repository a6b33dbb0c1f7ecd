"""Reading what a verifier is handed: `shc:/` text, a `.smart-health-card` file, a bare JWS or
a photo of the QR code, into the compact JWSs to verify.

Images are decoded with Pillow (PNG, JPEG and the other formats it reads) and zxing-cpp, both
imported only when an image arrives. The reasons raised, as `InvalidCard.reason`:

    unreadable-input  none of the forms above
    not-an-image      image bytes Pillow cannot read
    image-too-large   more pixels than `MAX_PIXELS` (a decompression bomb, or a poster scan)
    no-qr-found       an image with no `shc:/` QR code in it
    qr-malformed, qr-chunk-mismatch, qr-incomplete   from `decode_qr_text`
"""

from __future__ import annotations

import io
import json
import re
from collections.abc import Iterable

from vaxrec.shc._errors import InvalidCard
from vaxrec.shc._qr import decode_qr_text

MAX_PIXELS = 40_000_000  # a 48-megapixel phone photo is refused; 12 MP is fine
_DECODE_SIDE = 2_400  # larger photos are scaled down first: zxing-cpp is then ~10x faster
_JWS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*$")
_IMAGE_MAGIC = (b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF8", b"RIFF", b"BM")


def looks_like_image(data: bytes) -> bool:
    """True for bytes that start like a PNG, JPEG, GIF, WebP or BMP file."""
    return data.startswith(_IMAGE_MAGIC)


def qr_texts_from_image(data: bytes) -> list[str]:
    """The `shc:/` texts of every QR code in an image (several for a chunked card)."""
    import zxingcpp
    from PIL import Image, UnidentifiedImageError

    try:
        image = Image.open(io.BytesIO(data))
        width, height = image.size
        if width * height > MAX_PIXELS:
            raise InvalidCard("image-too-large", f"{width}x{height} pixels")
        image.draft("L", (_DECODE_SIDE, _DECODE_SIDE))  # JPEG: decode at a reduced size
        grey = image.convert("L")
    except (UnidentifiedImageError, OSError, ValueError) as err:
        raise InvalidCard("not-an-image", type(err).__name__) from err
    if max(grey.size) > _DECODE_SIDE:
        grey.thumbnail((_DECODE_SIDE, _DECODE_SIDE))
    pixels = memoryview(grey.tobytes()).cast("B", (grey.height, grey.width))
    found = zxingcpp.read_barcodes(
        pixels, formats=zxingcpp.BarcodeFormats(zxingcpp.BarcodeFormat.QRCode)
    )
    texts = [b.text for b in found if b.text.lower().startswith("shc:/")]
    if not texts:
        raise InvalidCard("no-qr-found", "no SMART Health Card QR code in the image")
    return texts


def jws_from_qr_texts(texts: Iterable[str]) -> list[str]:
    """The cards in a set of QR texts: each whole-card text alone, the chunks joined."""
    singles: list[str] = []
    chunks: list[str] = []
    for text in dict.fromkeys(t.strip() for t in texts):
        (chunks if re.match(r"^shc:/\d+/\d+/", text, re.IGNORECASE) else singles).append(text)
    cards = [decode_qr_text(t) for t in singles]
    if chunks:
        cards.append(decode_qr_text(chunks))
    return cards


def jws_from_text(text: str) -> list[str]:
    """The cards in pasted or file text: `shc:/` lines, a `.smart-health-card` JSON, a JWS."""
    text = text.strip().lstrip("\ufeff").strip()
    if text.lower().startswith("shc:/"):
        return jws_from_qr_texts(text.split())
    if text.startswith("{"):
        try:
            document = json.loads(text)
        except ValueError as err:
            raise InvalidCard("unreadable-input", "not valid JSON") from err
        credentials = document.get("verifiableCredential") if isinstance(document, dict) else None
        if (
            not isinstance(credentials, list)
            or not credentials
            or not all(isinstance(c, str) for c in credentials)
        ):
            raise InvalidCard("unreadable-input", "no verifiableCredential list of JWS strings")
        return [c.strip() for c in credentials]
    if _JWS.match(text):
        return [text]
    raise InvalidCard("unreadable-input", "not a shc:/ text, a .smart-health-card file or a JWS")


def jws_from_bytes(data: bytes) -> list[str]:
    """The cards in a file's bytes, whichever of the forms it holds."""
    if looks_like_image(data):
        return jws_from_qr_texts(qr_texts_from_image(data))
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as err:
        raise InvalidCard("unreadable-input", "neither an image nor UTF-8 text") from err
    return jws_from_text(text)
