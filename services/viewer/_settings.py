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
