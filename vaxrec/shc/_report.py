"""A verification as people and programs read it: one sentence per reason, and a JSON shape.

The CLI and the viewer's /verify page both show these, so the two never disagree.
"""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

from vaxrec.i18n import page_text
from vaxrec.shc._verify import Verification


def reason_text(code: str, language: str = "en") -> str:
    """The sentence for a reason code (the code itself for one no message file knows).

    The sentences live with the /verify page's strings (locales/<language>/page.verify.txt,
    key reason_<code> with - as _), so the CLI, the JSON and the page in every language say
    the same thing."""
    return page_text(language, "verify").get(f"reason_{code.replace('-', '_')}", code)


def _epoch(value: Any) -> str | None:
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(value))
    except (OverflowError, OSError, ValueError):
        return None


def as_json(result: Verification, *, issuer_name: str | None = None) -> dict[str, Any]:
    """The verdict for machines: valid, reasons with their sentences, who, which doses."""
    payload = result.payload or {}
    return {
        "valid": result.valid,
        "verdict": "valid" if result.valid else "invalid",
        "reasons": [{"code": c, "text": reason_text(c)} for c in result.reasons],
        "issuer": result.issuer,
        "issuer_name": issuer_name,
        "kid": result.kid,
        "issued_at": _epoch(payload.get("nbf")),
        "expires_at": _epoch(payload.get("exp")),
        "person": asdict(result.patient) if result.patient else None,
        "doses": [asdict(d) for d in result.doses],
    }


def unreadable_json(code: str) -> dict[str, Any]:
    """The verdict, in `as_json`'s shape, for an input that held no card to verify."""
    return {
        "valid": False,
        "verdict": "invalid",
        "reasons": [{"code": code, "text": reason_text(code)}],
        "issuer": None,
        "issuer_name": None,
        "kid": None,
        "issued_at": None,
        "expires_at": None,
        "person": None,
        "doses": [],
    }
