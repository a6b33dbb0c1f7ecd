"""The notifier as a real process, for crash tests and the benchmark: start, kill, restart."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sys
from dataclasses import dataclass, field
from pathlib import Path

import aiohttp

from tests.support.stack import ROOT, free_port


def notifier_env(
    *,
    database_url: str,
    amqp_url: str,
    namespace: str,
    retry_delays_ms: tuple[int, ...],
    extra: dict[str, str],
) -> dict[str, str]:
    """The environment `python -m services.notifier` runs with."""
    inherited = {
        k: v for k, v in os.environ.items() if not k.startswith(("VAXREC_", "TWILIO_", "SENDGRID_"))
    }
    return {
        **inherited,
        "VAXREC_ENVIRONMENT": "development",
        "VAXREC_DATABASE_URL": database_url,
        "VAXREC_AMQP_URL": amqp_url,
        "VAXREC_BROKER_NAMESPACE": namespace,
        "VAXREC_RETRY_DELAYS_MS": str(list(retry_delays_ms)),
        "VAXREC_NOTIFIER_PORT": str(free_port()),
        "VAXREC_LOG_FORMAT": "json",
        "VAXREC_LOG_LEVEL": "warning",
        "VAXREC_VIEWER_PUBLIC_URL": "https://vaccinerecords.health.example.gov",
        **extra,
    }


@dataclass
class NotifierProcess:
    """One notifier process at a time, restartable."""

    env: dict[str, str]
    log: Path
    module: str = "services.notifier"
    starts: int = 0
    _process: asyncio.subprocess.Process | None = field(default=None, repr=False)

    @property
    def port(self) -> int:
        return int(self.env["VAXREC_NOTIFIER_PORT"])

    @property
    def pid(self) -> int | None:
        return self._process.pid if self._process is not None else None

    async def start(self) -> None:
        with self.log.open("ab") as log:
            self._process = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                self.module,
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=asyncio.subprocess.STDOUT,
            )
        self.starts += 1

    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def wait_ready(self, within_s: float = 30) -> None:
        deadline = asyncio.get_running_loop().time() + within_s
        async with aiohttp.ClientSession() as http:
            while asyncio.get_running_loop().time() < deadline:
                if not self.running():
                    raise RuntimeError(f"notifier exited: {self.log.read_text()[-3000:]}")
                with contextlib.suppress(aiohttp.ClientError):
                    async with http.get(f"http://127.0.0.1:{self.port}/readyz") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.05)
        raise TimeoutError(f"notifier not ready: {self.log.read_text()[-3000:]}")

    async def wait_exit(self) -> int:
        assert self._process is not None
        return await self._process.wait()

    async def kill(self) -> None:
        """SIGKILL: no shutdown, no acks, nothing flushed."""
        if self.running():
            assert self._process is not None
            self._process.send_signal(signal.SIGKILL)
            await self._process.wait()

    async def terminate(self) -> float:
        """SIGTERM, as a deploy stops a pod; returns how long the process took to exit."""
        assert self._process is not None
        started = asyncio.get_running_loop().time()
        self._process.send_signal(signal.SIGTERM)
        await self._process.wait()
        return asyncio.get_running_loop().time() - started

    async def stop(self) -> None:
        if self.running():
            assert self._process is not None
            self._process.send_signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self._process.wait(), 10)
            except TimeoutError:
                await self.kill()
