"""Signer settings."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, SecretStr, field_validator

from vaxrec.settings import RuntimeSettings


class SignerSettings(RuntimeSettings):
    """Everything the signer reads from the environment."""

    port: int = Field(default=8092, validation_alias="VAXREC_SIGNER_PORT")
    #: A private JWK file, or a key directory (see services/signer/_keys.py).
    signer_keys: Path = Path(".vaxrec/keys")
    #: The `iss` of every card: the base URL under which /.well-known/jwks.json is served.
    issuer: str = "http://127.0.0.1:8081"
    pepper: SecretStr = SecretStr("dev-pepper-not-secret")
    rid_secret: SecretStr = SecretStr("dev-rid-secret-not-secret")
    link_ttl_hours: float = Field(default=24, gt=0, le=24 * 30)

    @field_validator("issuer")
    @classmethod
    def _issuer_has_no_trailing_slash(cls, value: str) -> str:
        # Verifiers append /.well-known/jwks.json to iss verbatim; a trailing slash breaks them.
        if value.endswith("/"):
            raise ValueError("issuer must not end with '/'")
        if not value.startswith(("https://", "http://")):
            raise ValueError("issuer must be an https URL")
        return value

    def model_post_init(self, __context: object) -> None:
        if self.environment == "production" and not self.issuer.startswith("https://"):
            raise ValueError("issuer must be https outside development")
