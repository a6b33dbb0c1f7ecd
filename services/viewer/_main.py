"""python -m services.viewer"""

from __future__ import annotations

import asyncio

import structlog

from services.viewer._app import create_app
from services.viewer._settings import ViewerSettings
from vaxrec.logging import configure_logging
from vaxrec.runtime import open_resources, serve, wait_for_stop_signal

log = structlog.get_logger("viewer")


async def run(settings: ViewerSettings) -> None:
    configure_logging("viewer", level=settings.log_level, fmt=settings.log_format)
    async with open_resources(settings, "viewer", broker=False) as resources:
        app = create_app(settings, resources.db, resources.readiness)
        runner = await serve(app, settings.port)
        log.info("service.started", port=settings.port)
        try:
            await wait_for_stop_signal()
        finally:
            await runner.cleanup()


def main() -> None:
    asyncio.run(run(ViewerSettings()))
