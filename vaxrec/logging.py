"""structlog set up once per process: JSON off a terminal, console on one, no personal data."""

from __future__ import annotations

import logging
import sys
from collections.abc import MutableMapping
from typing import Any

import structlog

#: Event keys that may carry a resident's personal data; dropped from every log line whatever
#: the call site passed, so one careless `log.info(..., phone=...)` cannot leak.
PERSONAL_KEYS = frozenset(
    {
        "pin",
        "first_name",
        "last_name",
        "given_names",
        "family_name",
        "name",
        "date_of_birth",
        "birth_date",
        "phone",
        "email",
        "contact",
        "address",
        "to",
        "body",
        "link",
        "link_token",
        "token",
    }
)


def drop_personal_data(
    _logger: Any, _method: str, event: MutableMapping[str, Any]
) -> MutableMapping[str, Any]:
    for key in PERSONAL_KEYS.intersection(event):
        event[key] = "[redacted]"
    return event


def configure_logging(service: str, *, level: str = "info", fmt: str = "auto") -> None:
    renderer: Any
    if fmt == "console" or (fmt == "auto" and sys.stderr.isatty()):
        renderer = structlog.dev.ConsoleRenderer()
    else:
        renderer = structlog.processors.JSONRenderer()
    shared: list[Any] = [
        structlog.contextvars.merge_contextvars,
        structlog.processors.add_log_level,
        structlog.processors.TimeStamper(fmt="iso", utc=True),
        drop_personal_data,
    ]
    structlog.configure(
        processors=[*shared, structlog.processors.format_exc_info, renderer],
        wrapper_class=structlog.make_filtering_bound_logger(logging.getLevelName(level.upper())),
        logger_factory=structlog.PrintLoggerFactory(sys.stderr),
        cache_logger_on_first_use=True,
    )
    # Libraries log through the standard library; route them through the same processors.
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(foreign_pre_chain=shared, processor=renderer)
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(logging.WARNING)
    structlog.contextvars.bind_contextvars(service=service)
