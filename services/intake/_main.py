"""python -m services.intake"""

from __future__ import annotations

import asyncio

import structlog

from services.intake._app import create_app
from services.intake._settings import IntakeSettings
from vaxrec.logging import configure_logging
from vaxrec.runtime import open_resources, serve, wait_for_stop_signal

log = structlog.get_logger("intake")


async def run(settings: IntakeSettings) -> None:
    configure_logging("intake", level=settings.log_level, fmt=settings.log_format)
    async with open_resources(settings, "intake", database=False) as resources:
        app = create_app(settings, resources.bus.publisher, resources.readiness)
        runner = await serve(app, settings.port)
        log.info("service.started", port=settings.port)
        try:
            await wait_for_stop_signal()
        finally:
            await runner.cleanup()


def main() -> None:
    asyncio.run(run(IntakeSettings()))
