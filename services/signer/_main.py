"""python -m services.signer"""

from __future__ import annotations

import asyncio
import functools

import structlog

from contracts import RecordMatchedV1
from services.signer._issue import handle_record_matched
from services.signer._keys import load_keys
from services.signer._publish_keys import publish_public_keys
from services.signer._settings import SignerSettings
from services.signer._store import CardStore
from vaxrec.outbox import OutboxRelay
from vaxrec.runtime import Resources, run_worker

log = structlog.get_logger("signer")


async def start(resources: Resources, *, settings: SignerSettings) -> None:
    ring = load_keys(settings.signer_keys)
    await publish_public_keys(resources.db, ring)
    log.info("keys.loaded", active_kid=ring.active_kid, keys=len(ring.keys))
    relay = OutboxRelay(resources.db, resources.bus.publisher)
    # Kept on the resources so it lives (and is cancelled) with the service.
    resources.tasks.append(asyncio.create_task(relay.run(), name="outbox-relay"))
    await resources.bus.consume(
        "signer",
        RecordMatchedV1,
        functools.partial(
            handle_record_matched, store=CardStore(resources.db), keys=ring, settings=settings
        ),
    )


def main() -> None:
    settings = SignerSettings()
    asyncio.run(
        run_worker("signer", settings, settings.port, functools.partial(start, settings=settings))
    )
