"""Cards verified per second on one core, and what reading a QR picture costs.

    .venv/bin/python bench/verify_bench.py [--cards 2000]

Signs `--cards` distinct cards with a fresh key (three doses, a rid, the size of a real card),
then times `vaxrec.shc.verify` over them with in-memory keys and a CRL of 1,000 entries (the
whole check: split, inflate, claims, thumbprint, ES256, revocation), beside the raw joserfc
ES256 verify of the same tokens. Then times `jws_from_bytes` on the card's PNG and on a
1600x1200 JPEG "photo" of it (Pillow + zxing-cpp). No database, broker or network.
"""

from __future__ import annotations

import argparse
import asyncio
import io
import statistics
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from joserfc import jws as jose_jws  # noqa: E402
from PIL import Image  # noqa: E402

from tests.shc.builders import many_doses, patient  # noqa: E402
from vaxrec.shc import (  # noqa: E402
    StaticCrls,
    StaticKeys,
    build_bundle,
    build_payload,
    generate_key,
    jws_from_bytes,
    public_jwk,
    render_qr_png,
    sign,
    verify,
)
from vaxrec.shc._jws import REGISTRY, key_id  # noqa: E402

ISS = "https://records.example.org"


async def main(cards: int) -> None:
    key = generate_key()
    kid = key_id(key)
    now = time.time()
    tokens = [
        sign(
            build_payload(
                iss=ISS,
                bundle=build_bundle(patient(), many_doses(3)),
                nbf=int(now) - i,
                rid=f"RID{i:08d}",
                covid=True,
            ),
            key,
        )
        for i in range(cards)
    ]
    keys = StaticKeys({ISS: [public_jwk(key, crl_version=1)]})
    crl = {"kid": kid, "method": "rid", "ctr": 1, "rids": [f"X{i:010d}" for i in range(1000)]}
    crls = StaticCrls({ISS: [crl]})

    started = time.perf_counter()
    for token in tokens:
        result = await verify(token, keys=keys, trusted_issuers={ISS}, now=now, crl=crls)
        assert result.valid, result.reasons
    full = cards / (time.perf_counter() - started)

    started = time.perf_counter()
    for token in tokens:
        jose_jws.deserialize_compact(token, key, registry=REGISTRY)
    raw = cards / (time.perf_counter() - started)

    png = render_qr_png(tokens[0])
    qr = Image.open(io.BytesIO(render_qr_png(tokens[0], scale=6))).convert("RGB")
    photo = Image.new("RGB", (1600, 1200), (120, 130, 140))
    photo.paste(qr.rotate(7, expand=True, fillcolor=(255, 255, 255)), (300, 150))
    out = io.BytesIO()
    photo.save(out, "JPEG", quality=75)
    timings = {}
    for name, data in (("PNG", png), ("JPEG photo", out.getvalue())):
        runs = []
        for _ in range(20):
            t = time.perf_counter()
            assert jws_from_bytes(data) == [tokens[0]]
            runs.append(time.perf_counter() - t)
        timings[name] = statistics.median(runs) * 1000

    print(f"cards: {cards}, JWS {len(tokens[0])} characters")
    print(f"verify (full check):  {full:8.0f} cards/s")
    print(f"raw joserfc ES256:    {raw:8.0f} tokens/s  (verify = {100 * full / raw:.0f} %)")
    for name, ms in timings.items():
        print(f"read QR from {name:<10} {ms:6.1f} ms (median of 20)")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--cards", type=int, default=2000)
    asyncio.run(main(parser.parse_args().cards))
