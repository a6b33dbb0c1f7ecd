"""python -m services.intake"""

from __future__ import annotations

import asyncio

from services.intake._app import create_app
from services.intake._settings import IntakeSettings
from vaxrec.runtime import run_http_service


def main() -> None:
    settings = IntakeSettings()
    asyncio.run(
        run_http_service(
            "intake",
            settings,
            settings.port,
            lambda r: create_app(settings, r.bus.publisher, r.readiness),
            database=False,
        )
    )
