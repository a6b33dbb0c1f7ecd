"""Matcher settings."""

from __future__ import annotations

from pydantic import Field

from vaxrec.settings import RuntimeSettings


class MatcherSettings(RuntimeSettings):
    """Everything the matcher reads from the environment."""

    port: int = Field(default=8091, validation_alias="VAXREC_MATCHER_PORT")
