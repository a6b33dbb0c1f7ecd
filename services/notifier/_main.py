"""python -m services.notifier"""

from __future__ import annotations

import asyncio
import functools

from contracts import CardIssuedV1, RecordUnmatchedV1
from services.notifier._handlers import handle_card_issued, handle_unmatched
from services.notifier._providers import OutboxProvider
from services.notifier._settings import NotifierSettings
from vaxrec.runtime import Resources, run_worker


async def start(resources: Resources, *, settings: NotifierSettings) -> None:
    pool, provider = resources.db, OutboxProvider()
    await resources.bus.consume(
        "notifier",
        CardIssuedV1,
        functools.partial(handle_card_issued, pool=pool, provider=provider, settings=settings),
    )
    await resources.bus.consume(
        "notifier",
        RecordUnmatchedV1,
        functools.partial(handle_unmatched, pool=pool, provider=provider, settings=settings),
    )


def main() -> None:
    settings = NotifierSettings()
    asyncio.run(
        run_worker("notifier", settings, settings.port, functools.partial(start, settings=settings))
    )
