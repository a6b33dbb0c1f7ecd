"""python -m services.viewer"""

from __future__ import annotations

import asyncio

from services.viewer._app import create_app
from services.viewer._settings import ViewerSettings
from vaxrec.runtime import run_http_service


def main() -> None:
    settings = ViewerSettings()
    asyncio.run(
        run_http_service(
            "viewer",
            settings,
            settings.port,
            lambda r: create_app(settings, r.db, r.readiness),
            broker=False,
        )
    )
