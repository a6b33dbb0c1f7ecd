"""Intake settings."""

from __future__ import annotations

from pydantic import Field, SecretStr

from vaxrec.settings import RuntimeSettings


class IntakeSettings(RuntimeSettings):
    """Everything intake reads from the environment."""

    port: int = Field(default=8080, validation_alias="VAXREC_INTAKE_PORT")
    pepper: SecretStr = SecretStr("dev-pepper-not-secret")
    #: How long to wait for the broker's confirm before answering 503.
    publish_timeout_s: float = 5.0
