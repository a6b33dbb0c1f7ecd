"""`vaxrec verify` on every input form, with a VCI directory trust file."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

import asyncpg
import pytest
from PIL import Image, ImageFilter

from tests.shc.builders import EXAMPLE_ISS, Vectors
from tests.verify.cli import run, run_async
from tests.verify.conftest import Issued, write_trust_file
from vaxrec.shc import qr_chunks, qr_text, render_qr_png

CHUNK_FILES = [f"example-02-f-qr-code-numeric-value-{k}.txt" for k in range(3)]


@pytest.fixture
def trust(vectors: Vectors, tmp_path: Path) -> str:
    """The spec's example issuer as a VCI directory snapshot, its CRL included."""
    crl = vectors.json("3Kfdg-XwP-7gXyywtUfUADwBumDOPKMQx-iELL11W9s.json")
    snapshot = {
        "directory": "https://example.org",
        "time": "2026-01-01T00:00:00Z",
        "issuerInfo": [
            {
                "issuer": {"iss": EXAMPLE_ISS, "name": "SMART example issuer"},
                "keys": vectors.json("jwks.json")["keys"],
                "crls": [crl],
            }
        ],
    }
    path = tmp_path / "vci-snapshot.json"
    path.write_text(json.dumps(snapshot))
    return str(path)


def test_shc_text(capsys: pytest.CaptureFixture[str], vectors: Vectors, trust: str) -> None:
    result = run(capsys, "--trust", trust, qr_text(vectors.jws("00")))
    assert result.code == 0
    assert "Person:  John B. Anyperson, born 1951-01-20" in result.out
    assert "SMART example issuer" in result.out
    assert "2021-01-29  Moderna COVID-19" in result.out
    assert "lot 0000007" in result.out
    assert result.out.rstrip().endswith("Verdict: VALID")


def test_chunked_text_in_any_order(
    capsys: pytest.CaptureFixture[str], vectors: Vectors, trust: str, tmp_path: Path
) -> None:
    chunks = [(vectors.root / name).read_text() for name in CHUNK_FILES]
    assert [c[:9] for c in chunks] == ["shc:/1/3/", "shc:/2/3/", "shc:/3/3/"]
    # Example 02 is a DiagnosticReport bundle: no doses, but a valid signature.
    as_args = run(capsys, "--trust", trust, "--json", chunks[2], chunks[0], chunks[1])
    assert as_args.code == 0, as_args.out
    assert [c["valid"] for c in as_args.cards] == [True]
    # The same three texts, one per line, in a file.
    lines = tmp_path / "chunks.txt"
    lines.write_text("\n".join([chunks[1], chunks[2], chunks[0]]) + "\n")
    assert run(capsys, "--trust", trust, str(lines)).code == 0
    # A missing chunk is named as such.
    missing = run(capsys, "--trust", trust, "--json", chunks[0], chunks[2])
    assert (missing.code, missing.reasons) == (1, [["qr-incomplete"]])


def test_smart_health_card_file(
    capsys: pytest.CaptureFixture[str], vectors: Vectors, trust: str
) -> None:
    result = run(
        capsys,
        "--trust",
        trust,
        "--json",
        str(vectors.root / "example-01-e-file.smart-health-card"),
    )
    assert result.code == 0
    [card] = result.cards
    assert card["kid"] == "EBKOr72QQDcTBUuVzAzkfBTGew0ZA16GuWty64nS-sw"
    assert card["person"] == {"name": "John B. Anyperson", "birth_date": "1951-01-20"}
    assert [d["cvx"] for d in card["doses"]] == ["207", "207", "229"]


def test_png_and_jpeg_photo(
    capsys: pytest.CaptureFixture[str], vectors: Vectors, trust: str, tmp_path: Path
) -> None:
    png = tmp_path / "card.png"
    png.write_bytes(render_qr_png(vectors.jws("00")))
    assert run(capsys, "--trust", trust, str(png)).code == 0
    # A photo-like JPEG: colour, scaled, rotated, blurred a little, on a grey background.
    qr = Image.open(io.BytesIO(render_qr_png(vectors.jws("00"), scale=6))).convert("RGB")
    photo = Image.new("RGB", (1600, 1200), (120, 130, 140))
    photo.paste(qr.rotate(7, expand=True, fillcolor=(255, 255, 255)), (300, 150))
    jpeg = tmp_path / "photo.jpg"
    photo.filter(ImageFilter.GaussianBlur(1)).save(jpeg, "JPEG", quality=70)
    result = run(capsys, "--trust", trust, "--json", str(jpeg))
    assert (result.code, result.reasons) == (0, [[]])


def test_chunked_pngs(
    capsys: pytest.CaptureFixture[str], vectors: Vectors, trust: str, tmp_path: Path
) -> None:
    # Three QR pictures, one per chunk, decoded and joined.
    from segno import consts, make

    paths = []
    for i, text in enumerate(qr_chunks(vectors.jws("02"))):
        prefix, digits = text[: text.rindex("/") + 1], text[text.rindex("/") + 1 :]
        qr = make([(prefix, consts.MODE_BYTE), (digits, consts.MODE_NUMERIC)], error="l")
        paths.append(tmp_path / f"chunk{i}.png")
        qr.save(paths[-1], kind="png", scale=3, border=4)
    assert run(capsys, "--trust", trust, *map(str, paths)).code == 0


def test_bare_jws_and_stdin(
    capsys: pytest.CaptureFixture[str],
    vectors: Vectors,
    trust: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    assert run(capsys, "--trust", trust, vectors.jws("00")).code == 0
    stdin = io.TextIOWrapper(io.BytesIO(vectors.jws("01").encode()))
    monkeypatch.setattr(sys, "stdin", stdin)
    assert run(capsys, "--trust", trust, "-").code == 0


def test_expired_and_revoked_example(
    capsys: pytest.CaptureFixture[str], vectors: Vectors, trust: str
) -> None:
    result = run(capsys, "--trust", trust, vectors.jws("03"))
    assert result.code == 1
    assert "Verdict: INVALID" in result.out
    assert "The card has expired. [expired]" in result.out
    assert "The issuer has revoked this card. [revoked]" in result.out


def test_vci_issuer_list_without_keys_needs_fetch(
    capsys: pytest.CaptureFixture[str], vectors: Vectors, tmp_path: Path
) -> None:
    # vci-issuers.json names issuers but holds no keys: trusted, yet nothing to check with.
    listing = tmp_path / "vci-issuers.json"
    listing.write_text(json.dumps({"participating_issuers": [{"iss": EXAMPLE_ISS, "name": "x"}]}))
    result = run(capsys, "--trust", str(listing), "--json", vectors.jws("00"))
    assert (result.code, result.reasons) == (1, [["unknown-kid"]])


def test_several_cards_one_invalid(
    capsys: pytest.CaptureFixture[str], vectors: Vectors, trust: str
) -> None:
    result = run(capsys, "--trust", trust, "--json", vectors.jws("00"), vectors.jws("03"))
    assert result.code == 1
    assert [c["valid"] for c in result.cards] == [True, False]


def test_garbage_file_is_invalid_not_a_crash(
    capsys: pytest.CaptureFixture[str], trust: str, tmp_path: Path
) -> None:
    junk = tmp_path / "junk.bin"
    junk.write_bytes(b"\x00\xff" * 50)
    assert run(capsys, "--trust", trust, "--json", str(junk)).reasons == [["unreadable-input"]]
    broken = tmp_path / "broken.png"
    broken.write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 64)
    assert run(capsys, "--trust", trust, "--json", str(broken)).reasons == [["not-an-image"]]
    blank = tmp_path / "blank.png"
    Image.new("L", (200, 200), 255).save(blank)
    assert run(capsys, "--trust", trust, "--json", str(blank)).reasons == [["no-qr-found"]]


def test_usage_errors(capsys: pytest.CaptureFixture[str], vectors: Vectors, trust: str) -> None:
    no_source = run(capsys, vectors.jws("00"))
    assert no_source.code == 2
    assert "--trust FILE, --fetch" in no_source.err
    assert run(capsys, "--trust", trust, "no/such/file.png").code == 2
    assert run(capsys, "--trust", "/no/such/trust.json", vectors.jws("00")).code == 2


def test_exit_status_of_the_installed_command(vectors: Vectors, trust: str) -> None:
    command = [sys.executable, "-m", "vaxrec.cli", "verify", "--trust", trust]
    valid = subprocess.run([*command, vectors.jws("00")], capture_output=True, check=False)
    invalid = subprocess.run([*command, vectors.jws("03")], capture_output=True, check=False)
    usage = subprocess.run([*command, "--no-such-flag"], capture_output=True, check=False)
    assert (valid.returncode, invalid.returncode, usage.returncode) == (0, 1, 2)


async def test_own_card_from_the_signer(
    capsys: pytest.CaptureFixture[str], db: asyncpg.Pool, issued: Issued, tmp_path: Path
) -> None:
    trust = await write_trust_file(db, tmp_path / "trust.json")
    result = await run_async(capsys, "--trust", str(trust), "--json", qr_text(issued.jws))
    assert (result.code, result.reasons) == (0, [[]])
    [card] = result.cards
    assert card["issuer_name"] == "Test Registry"
    assert card["person"] == {"name": "John Doe", "birth_date": "1951-08-15"}
    assert [(d["date"], d["lot"]) for d in card["doses"]] == [
        ("2021-02-23", None),
        ("2021-03-16", "EN6207"),
    ]
    assert all("Pfizer" in d["vaccine"] for d in card["doses"])
