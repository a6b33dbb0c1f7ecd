"""Fitting a resident's record into one QR code.

Size policy. One QR (version 22, level L) holds a JWS of at most 1195 characters. The
`.smart-health-card` file has no such limit, so `full_jws` always carries every dose with
performer and lot; the QR card (`jws`) is the first of these that fits:

1. ``full``: every dose, with performer and lot number;
2. ``no-performer``: every dose, without performers;
3. ``no-lot``: every dose, without performers or lot numbers;
4. ``fewer-doses``: still without performers and lots, the first two doses (the primary
   series) and as many of the most recent as fit; when even one recent dose is too many with
   both first doses, then the first and the most recent, and finally the most recent alone.

The most recent dose is always on the card, and a one-dose card always fits. A card never
fails to issue for its size or for a vaccine code the table does not know.

Sizes come from the deflated payload, never from signing: the header is fixed for a key and
an ES256 signature is always 86 characters, so the JWS length is exact before signing, and
at most two signatures are made (the full card, and the QR card when it differs).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from joserfc.jwk import ECKey

from vaxrec.shc._bundle import (
    DoseData,
    PatientData,
    build_bundle,
    build_payload,
    bundle_is_covid,
    deflate,
    minify,
    sort_doses,
)
from vaxrec.shc._jws import jws_length, key_id, sign_deflated

QR_MAX_JWS = 1195


@dataclass(frozen=True)
class FittedCard:
    """A signed card: `jws` for the QR, `full_jws` (every dose) for the file."""

    jws: str
    full_jws: str
    doses_in_qr: int
    doses_total: int
    policy_step: str


def _subsets(doses: list[DoseData]) -> list[list[DoseData]]:
    """Dose lists for the fewer-doses step, most doses first, the latest dose in every one."""
    n = len(doses)
    subsets = [doses[:2] + doses[n - k :] for k in range(n - 3, 0, -1)]
    if n >= 2:
        subsets.append([doses[0], doses[-1]])
    subsets.append([doses[-1]])
    return subsets


def fit_card(
    patient: PatientData,
    doses: Sequence[DoseData],
    *,
    iss: str,
    nbf: int,
    rid: str | None,
    key: ECKey,
    kid: str | None = None,
) -> FittedCard:
    """Sign the full card, and a QR card cut down by the size policy when that is too big.

    `kid` is the key's thumbprint; a caller signing many cards passes it once computed."""
    kid = kid or key_id(key)
    ordered = sort_doses(doses)

    def deflated(chosen: Sequence[DoseData], *, performer: bool, lot: bool) -> bytes:
        bundle = build_bundle(patient, chosen, include_performer=performer, include_lot=lot)
        payload = build_payload(
            iss=iss, bundle=bundle, nbf=nbf, rid=rid, covid=bundle_is_covid(chosen)
        )
        return deflate(minify(payload))

    def fits(body: bytes) -> bool:
        return jws_length(kid, len(body)) <= QR_MAX_JWS

    full = deflated(ordered, performer=True, lot=True)
    full_jws = sign_deflated(full, key, kid)
    total = len(ordered)
    if fits(full):
        return FittedCard(full_jws, full_jws, total, total, "full")

    for step, lot in (("no-performer", True), ("no-lot", False)):
        body = deflated(ordered, performer=False, lot=lot)
        if fits(body):
            jws = sign_deflated(body, key, kid)
            return FittedCard(jws, full_jws, total, total, step)

    subsets = _subsets(ordered)
    # Binary search for the largest subset that fits; the last (one dose) is taken as fitting
    # without a check, since nothing smaller exists to fall back to.
    lo, hi = 0, len(subsets) - 1
    best = hi
    bodies: dict[int, bytes] = {}
    while lo < hi:
        mid = (lo + hi) // 2
        bodies[mid] = deflated(subsets[mid], performer=False, lot=False)
        if fits(bodies[mid]):
            best = hi = mid
        else:
            lo = mid + 1
    body = bodies.get(best) or deflated(subsets[best], performer=False, lot=False)
    jws = sign_deflated(body, key, kid)
    return FittedCard(jws, full_jws, len(subsets[best]), total, "fewer-doses")
