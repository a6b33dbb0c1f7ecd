"""The exception tree of `vaxrec.shc`."""

from __future__ import annotations


class ShcError(Exception):
    """Base of every error raised by `vaxrec.shc`."""


class InvalidCard(ShcError):  # noqa: N818 - the name the services import
    """A card (JWS, QR text or payload) that cannot be read; `reason` is a machine code."""

    def __init__(self, reason: str, detail: str = "") -> None:
        super().__init__(f"{reason}: {detail}" if detail else reason)
        self.reason = reason
        self.detail = detail


class SourceUnavailable(ShcError):  # noqa: N818 - reads as what happened, like InvalidCard
    """A key or CRL source could not answer (network error, timeout, bad document)."""
