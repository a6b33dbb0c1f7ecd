"""The settings every service shares; each service subclasses this once."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, SecretStr, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

#: Secrets that ship with the code so `make run` works with nothing configured. Any of them
#: outside development is a mistake the service refuses to start with.
DEVELOPMENT_SECRETS = frozenset({"dev-pepper-not-secret", "dev-rid-secret-not-secret"})


class RuntimeSettings(BaseSettings):
    """Connections, logging and the broker namespace, read from VAXREC_* variables."""

    model_config = SettingsConfigDict(env_prefix="VAXREC_", extra="ignore", frozen=True)

    environment: Literal["development", "test", "production"] = "development"
    database_url: str = "postgresql://postgres@127.0.0.1:5432/vaxrec"
    amqp_url: str = "amqp://guest:guest@127.0.0.1:5672/"
    broker_namespace: str = Field(default="vaxrec", pattern=r"^[a-z0-9][a-z0-9_.-]{0,40}$")
    log_format: Literal["auto", "json", "console"] = "auto"
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    db_pool_size: int = Field(default=10, ge=1, le=200)
    prefetch: int = Field(default=64, ge=1, le=10_000)
    #: Back-off before each redelivery of a failed message; after the last it is parked.
    retry_delays_ms: tuple[int, ...] = (1_000, 5_000, 30_000, 120_000, 600_000)

    @model_validator(mode="after")
    def _no_development_secrets_outside_development(self) -> RuntimeSettings:
        if self.environment == "development":
            return self
        for name, value in self:
            if isinstance(value, SecretStr) and value.get_secret_value() in DEVELOPMENT_SECRETS:
                raise ValueError(f"{name} is the development placeholder; set a real secret")
        return self
