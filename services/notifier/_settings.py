"""Notifier settings."""

from __future__ import annotations

from pydantic import Field

from vaxrec.settings import RuntimeSettings


class NotifierSettings(RuntimeSettings):
    """Everything the notifier reads from the environment."""

    port: int = Field(default=8093, validation_alias="VAXREC_NOTIFIER_PORT")
    #: The base of the links residents receive: <viewer_public_url>/c/<token>.
    viewer_public_url: str = "http://127.0.0.1:8081"
    help_contact: str = "your county health department"
