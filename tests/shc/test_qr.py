from __future__ import annotations

import time

import pytest
import zxingcpp
from joserfc.jwk import ECKey

from tests.shc._png import read_grey_png
from tests.shc.builders import Vectors, many_doses, patient
from vaxrec.shc import (
    InvalidCard,
    decode_qr_text,
    fit_card,
    qr_chunks,
    qr_text,
    render_qr_png,
    render_qr_svg,
)
from vaxrec.shc._qr import make_qr

EXAMPLES = ("00", "01", "02", "03")


@pytest.mark.parametrize("n", EXAMPLES)
def test_decoder_turns_each_example_qr_into_its_jws(vectors: Vectors, n: str) -> None:
    texts = vectors.qr_texts(n)
    assert len(texts) == (3 if n == "02" else 1)
    assert decode_qr_text(texts) == vectors.jws(n)
    assert decode_qr_text(list(reversed(texts))) == vectors.jws(n)
    if len(texts) == 1:
        assert decode_qr_text(texts[0]) == vectors.jws(n)


@pytest.mark.parametrize("n", EXAMPLES)
def test_encoder_reproduces_each_example_qr(vectors: Vectors, n: str) -> None:
    jws = vectors.jws(n)
    expected = vectors.qr_texts(n)
    assert (qr_chunks(jws) if len(expected) > 1 else [qr_text(jws)]) == expected


def test_example_02_chunks_are_balanced(vectors: Vectors) -> None:
    chunks = qr_chunks(vectors.jws("02"))
    sizes = [len(c.split("/")[-1]) // 2 for c in chunks]
    assert sizes == [1095, 1095, 1095]
    assert qr_chunks(vectors.jws("00")) == [qr_text(vectors.jws("00"))]


def test_qr_text_digit_mapping() -> None:
    assert qr_text("-Xz.") == "shc:/00437701"
    assert qr_text("eyJ") == "shc:/567629"


@pytest.mark.parametrize(
    ("texts", "reason"),
    [
        ("http://example.org", "qr-malformed"),
        ("shc:/567", "qr-malformed"),  # odd count
        ("shc:/5678", "qr-malformed"),  # 78 is past 'z'
        ("shc:/56a6", "qr-malformed"),
        ("shc:/\u0665\u0666", "qr-malformed"),  # Arabic-Indic digits are not QR digits
        ("shc:/", "qr-malformed"),
        (["shc:/1/2/5676"], "qr-incomplete"),
        (["shc:/1/2/5676", "shc:/1/3/5676"], "qr-chunk-mismatch"),
        (["shc:/1/2/5676", "shc:/1/2/5677"], "qr-chunk-mismatch"),
        (["shc:/3/2/5676", "shc:/1/2/5677"], "qr-chunk-mismatch"),
        (["shc:/5676", "shc:/1/2/5677"], "qr-chunk-mismatch"),
        ([], "qr-malformed"),
    ],
)
def test_decoder_rejects_bad_texts(texts: str | list[str], reason: str) -> None:
    with pytest.raises(InvalidCard) as caught:
        decode_qr_text(texts)
    assert caught.value.reason == reason


def test_decoder_accepts_upper_case_prefix_and_repeated_scans() -> None:
    assert decode_qr_text("SHC:/567629") == "eyJ"
    chunks = ["shc:/2/2/5629", "Shc:/1/2/5676", "shc:/2/2/5629"]
    assert decode_qr_text(chunks) == "eyeJ"
    assert decode_qr_text(["shc:/567629", "shc:/567629 "]) == "eyJ"


def test_example_qr_uses_two_segments_at_version_18(vectors: Vectors) -> None:
    qr = make_qr(vectors.jws("00"))
    assert (qr.version, qr.error) == (18, "L")


def test_png_of_a_real_card_scans_back_to_the_exact_text(key: ECKey) -> None:
    card = fit_card(
        patient(),
        many_doses(40),
        iss="https://records.example.org",
        nbf=int(time.time()),
        rid="abcdefghijk",
        key=key,
    )
    assert len(card.jws) > 1150  # near the limit, so this is the densest QR we make
    qr = make_qr(card.jws)
    assert isinstance(qr.version, int)
    assert qr.version <= 22
    assert qr.error == "L"
    width, height, pixels = read_grey_png(render_qr_png(card.jws, scale=4))
    image = memoryview(pixels).cast("B", (height, width))
    (barcode,) = zxingcpp.read_barcodes(image)
    assert barcode.text == qr_text(card.jws)
    assert barcode.symbology_identifier == "]Q1"  # model 2, no ECI: the segments are plain


def test_svg_is_inline_and_cached(vectors: Vectors) -> None:
    jws = vectors.jws("03")
    svg = render_qr_svg(jws)
    assert svg.startswith("<svg")
    assert "<?xml" not in svg
    assert render_qr_svg(jws) is svg


def test_oversized_jws_is_refused(vectors: Vectors) -> None:
    from vaxrec.shc import ShcError

    with pytest.raises(ShcError):
        render_qr_svg(vectors.jws("02"))


@pytest.mark.parametrize("n", EXAMPLES)
def test_text_round_trip(vectors: Vectors, n: str) -> None:
    jws = vectors.jws(n)
    assert decode_qr_text(qr_chunks(jws)) == jws
