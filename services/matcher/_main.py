"""python -m services.matcher"""

from __future__ import annotations

import asyncio
import functools

from contracts import RecordRequestedV1
from services.matcher._audit import AuditLog
from services.matcher._handler import handle_record_requested
from services.matcher._settings import MatcherSettings
from vaxrec.runtime import Resources, run_worker


async def start(resources: Resources) -> None:
    await resources.bus.consume(
        "matcher",
        RecordRequestedV1,
        functools.partial(
            handle_record_requested, pool=resources.db, audit_log=AuditLog(resources.db)
        ),
    )


def main() -> None:
    settings = MatcherSettings()
    asyncio.run(run_worker("matcher", settings, settings.port, start))
