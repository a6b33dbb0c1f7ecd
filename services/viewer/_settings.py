"""Viewer settings."""

from __future__ import annotations

from pydantic import Field, SecretStr

from vaxrec.settings import RuntimeSettings


class ViewerSettings(RuntimeSettings):
    """Everything the viewer reads from the environment."""

    port: int = Field(default=8081, validation_alias="VAXREC_VIEWER_PORT")
    pepper: SecretStr = SecretStr("dev-pepper-not-secret")
    issuer_name: str = "vaxrec demonstration issuer"
    max_pin_attempts: int = Field(default=5, ge=1, le=20)
    jwks_max_age_s: int = 300
    #: Short: a revocation should reach verifiers within a minute or so.
    crl_max_age_s: int = Field(default=60, ge=0)
    #: The `iss` of the cards this viewer publishes keys for (the signer's VAXREC_ISSUER);
    #: the /verify page trusts this issuer only.
    issuer: str = "http://127.0.0.1:8081"
    #: The largest QR photo the /verify page takes.
    verify_max_photo_bytes: int = Field(default=8 * 1024 * 1024, ge=1024, le=64 * 1024 * 1024)
