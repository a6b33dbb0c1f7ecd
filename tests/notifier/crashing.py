"""python -m tests.notifier.crashing: the real notifier, SIGKILLed at chosen points.

The crash tests run this instead of `python -m services.notifier`: the same settings, bus,
handlers and providers, with three places where the process can kill itself, so the
production code carries no test hooks:

    before_send  the attempt is committed, the provider not yet called
    after_send   the provider accepted the message, the result not yet committed
    before_ack   the result is committed, the broker not yet told

Environment: CRASH_LOG (a file each kill is appended to before it happens), and either
CRASH_PLAN (JSON {event_id: point}: kill there once) or CRASH_PROBABILITY (kill at each point
with this probability).
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
import os
import random
import signal
import uuid
from pathlib import Path

from contracts import CardIssuedV1, Envelope, RecordUnmatchedV1
from services.notifier._deliver import Deliveries
from services.notifier._handlers import handle_card_issued, handle_unmatched
from services.notifier._main import Start, run
from services.notifier._providers import Outgoing, Provider
from services.notifier._settings import NotifierSettings
from vaxrec.runtime import Resources

POINTS = ("before_send", "after_send", "before_ack")


def read_kills(path: Path) -> list[tuple[str, str]]:
    """(event id, point) of every kill so far."""
    if not path.exists():
        return []
    kills = []
    for line in path.read_text().splitlines():
        event_id, point = line.split()
        kills.append((event_id, point))
    return kills


class Crasher:
    """Decides where to die, and writes it down first."""

    def __init__(self, log: Path, plan: dict[str, str], probability: float) -> None:
        self._log = log
        self._plan = plan
        self._probability = probability
        self._done = set(read_kills(log))

    def point(self, event_id: uuid.UUID, point: str) -> None:
        key = (str(event_id), point)
        if self._plan:
            due = self._plan.get(key[0]) == point and key not in self._done
        else:
            due = random.random() < self._probability
        if due:
            with self._log.open("a") as log:
                log.write(f"{key[0]} {point}\n")
                log.flush()
                os.fsync(log.fileno())
            os.kill(os.getpid(), signal.SIGKILL)


@dataclasses.dataclass
class CrashingProvider:
    """A provider with a kill point on either side of the call."""

    inner: Provider
    crasher: Crasher

    @property
    def name(self) -> str:
        return self.inner.name

    async def send(self, outgoing: Outgoing) -> str:
        self.crasher.point(outgoing.event_id, "before_send")
        provider_id = await self.inner.send(outgoing)
        self.crasher.point(outgoing.event_id, "after_send")
        return provider_id


def crashing_start(crasher: Crasher) -> Start:
    """The notifier's consumers, with the kill points around the provider and the ack."""

    async def start(
        resources: Resources, deliveries: Deliveries, settings: NotifierSettings
    ) -> None:
        providers = {ch: CrashingProvider(p, crasher) for ch, p in deliveries.providers.items()}
        crashing = dataclasses.replace(deliveries, providers=providers)

        async def card_issued(envelope: Envelope[CardIssuedV1]) -> None:
            await handle_card_issued(envelope, deliveries=crashing, settings=settings)
            crasher.point(envelope.message_id, "before_ack")

        async def unmatched(envelope: Envelope[RecordUnmatchedV1]) -> None:
            await handle_unmatched(envelope, deliveries=crashing, settings=settings)
            crasher.point(envelope.message_id, "before_ack")

        await resources.bus.consume("notifier", CardIssuedV1, card_issued)
        await resources.bus.consume("notifier", RecordUnmatchedV1, unmatched)

    return start


def main() -> None:
    crasher = Crasher(
        Path(os.environ["CRASH_LOG"]),
        json.loads(os.environ.get("CRASH_PLAN", "{}")),
        float(os.environ.get("CRASH_PROBABILITY", "0")),
    )
    asyncio.run(run(NotifierSettings(), start=crashing_start(crasher)))


if __name__ == "__main__":
    main()
