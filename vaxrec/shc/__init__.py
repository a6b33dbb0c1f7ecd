"""SMART Health Cards: the vaccination card's format, signature, QR code and verification.

Pure functions, no database or broker; the network only in `HttpIssuers`. The signer calls
`fit_card`, the viewer `decode_payload`, `qr_text`, `render_qr_svg` and `vaccine_name`;
`verify` checks any card, `jws_from_bytes`/`jws_from_text` read what a verifier is handed
(QR text, file, JWS, photo), and `as_json`/`reason_text` say the verdict.

Exceptions:

    ShcError                  anything this package refuses to do (e.g. a card with no dose)
    ├── InvalidCard           a card, QR text or payload that cannot be read; `.reason` is a
    │                         machine code such as "malformed", "zlib-wrapped", "qr-incomplete"
    └── SourceUnavailable     a key or CRL source could not answer (reported, not raised, by
                              `verify`: "keys-unavailable", "crl-unavailable")

`verify` never raises for a bad card: it returns a `Verification` whose `reasons` list the
same codes.
"""

from vaxrec.shc._bundle import (
    DoseData,
    PatientData,
    build_bundle,
    build_payload,
    deflate,
    minify,
)
from vaxrec.shc._cvx import is_covid_cvx, vaccine_name
from vaxrec.shc._errors import InvalidCard, ShcError, SourceUnavailable
from vaxrec.shc._fetch import HttpIssuers
from vaxrec.shc._fit import FittedCard, fit_card
from vaxrec.shc._input import jws_from_bytes, jws_from_qr_texts, jws_from_text
from vaxrec.shc._jws import decode_payload, sign
from vaxrec.shc._keys import generate_key, public_jwk, rid, thumbprint
from vaxrec.shc._qr import decode_qr_text, qr_chunks, qr_text, render_qr_png, render_qr_svg
from vaxrec.shc._report import as_json, reason_text, unreadable_json
from vaxrec.shc._sources import (
    CrlSource,
    DirectoryKeys,
    FirstOf,
    KeySource,
    StaticCrls,
    StaticKeys,
)
from vaxrec.shc._verify import Verification, verify
from vaxrec.shc._view import DoseView, PatientView, read_card

__all__ = [
    "CrlSource",
    "DirectoryKeys",
    "DoseData",
    "DoseView",
    "FirstOf",
    "FittedCard",
    "HttpIssuers",
    "InvalidCard",
    "KeySource",
    "PatientData",
    "PatientView",
    "ShcError",
    "SourceUnavailable",
    "StaticCrls",
    "StaticKeys",
    "Verification",
    "as_json",
    "build_bundle",
    "build_payload",
    "decode_payload",
    "decode_qr_text",
    "deflate",
    "fit_card",
    "generate_key",
    "is_covid_cvx",
    "jws_from_bytes",
    "jws_from_qr_texts",
    "jws_from_text",
    "minify",
    "public_jwk",
    "qr_chunks",
    "qr_text",
    "read_card",
    "reason_text",
    "render_qr_png",
    "render_qr_svg",
    "rid",
    "sign",
    "thumbprint",
    "unreadable_json",
    "vaccine_name",
    "verify",
]
