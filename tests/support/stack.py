"""The five services as separate processes, as `vaxrec run` starts them."""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.broker import TEST_RETRY_DELAYS_MS

SERVICES = ("intake", "matcher", "signer", "notifier", "viewer")
ROOT = Path(__file__).parents[2]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    """Running services: their ports, environment and log files."""

    ports: dict[str, int]
    env: dict[str, str]
    logs: Path
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def start(self, service: str) -> None:
        log = (self.logs / f"{service}.log").open("ab")
        self.processes[service] = subprocess.Popen(
            [sys.executable, "-m", f"services.{service}"],
            cwd=ROOT,
            env=self.env,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        log.close()

    def wait_ready(self, service: str, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            process = self.processes[service]
            if process.poll() is not None:
                raise RuntimeError(f"{service} exited: {self.log_text(service)[-3000:]}")
            url = f"{self.url(service)}/readyz"
            with contextlib.suppress(OSError), urllib.request.urlopen(url, timeout=2) as r:
                if r.status == 200:
                    return
            time.sleep(0.1)
        raise TimeoutError(f"{service} not ready: {self.log_text(service)[-3000:]}")

    def stop(self, service: str, sig: int = signal.SIGTERM) -> None:
        process = self.processes.pop(service)
        process.send_signal(sig)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()

    def log_text(self, service: str) -> str:
        path = self.logs / f"{service}.log"
        return path.read_text(errors="replace") if path.exists() else ""


@contextlib.contextmanager
def running_stack(
    *,
    database_url: str,
    amqp_url: str,
    namespace: str,
    keys: Path,
    logs: Path,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[Stack]:
    ports = {name: free_port() for name in SERVICES}
    env = {
        **os.environ,
        "VAXREC_ENVIRONMENT": "development",
        "VAXREC_DATABASE_URL": database_url,
        "VAXREC_AMQP_URL": amqp_url,
        "VAXREC_BROKER_NAMESPACE": namespace,
        "VAXREC_RETRY_DELAYS_MS": str(list(TEST_RETRY_DELAYS_MS)),
        "VAXREC_SIGNER_KEYS": str(keys),
        "VAXREC_ISSUER": f"http://127.0.0.1:{ports['viewer']}",
        "VAXREC_VIEWER_PUBLIC_URL": f"http://127.0.0.1:{ports['viewer']}",
        "VAXREC_LOG_FORMAT": "json",
        "VAXREC_DB_POOL_SIZE": "4",
        **{f"VAXREC_{name.upper()}_PORT": str(port) for name, port in ports.items()},
        # Settings a test chooses on top (retry delays, leases); they reach every service.
        **(extra_env or {}),
    }
    stack = Stack(ports, env, logs)
    try:
        for service in SERVICES:
            stack.start(service)
        for service in SERVICES:
            stack.wait_ready(service)
        yield stack
    finally:
        for service in list(stack.processes):
            stack.stop(service)


def vaxrec_cli(*args: str, env: Mapping[str, str]) -> str:
    """Run `vaxrec ...` as an operator would, in its own process; what it printed."""
    return subprocess.run(
        [sys.executable, "-m", "vaxrec.cli", *args],
        cwd=ROOT,
        env=dict(env),
        check=True,
        capture_output=True,
        text=True,
        timeout=120,
    ).stdout


@contextlib.contextmanager
def stack_with_new_key(
    tmp_path: Path,
    *,
    database_url: str,
    amqp_url: str,
    namespace: str,
    extra_env: Mapping[str, str] | None = None,
) -> Iterator[Stack]:
    """A signing key made by `vaxrec keys generate`, then the five services running with it."""
    keys, logs = tmp_path / "keys", tmp_path / "logs"
    logs.mkdir(parents=True)
    vaxrec_cli("keys", "generate", "--dir", str(keys), env={"PATH": "/usr/bin:/bin"})
    with running_stack(
        database_url=database_url,
        amqp_url=amqp_url,
        namespace=namespace,
        keys=keys,
        logs=logs,
        extra_env=extra_env,
    ) as stack:
        yield stack
