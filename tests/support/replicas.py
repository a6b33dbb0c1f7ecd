"""More processes of one service beside a running stack: replicas, each on its own health port."""

from __future__ import annotations

import subprocess
import sys

from tests.support.stack import ROOT, Stack, free_port


def start_replica(stack: Stack, service: str, name: str) -> None:
    """Start another `service` process known to the stack as `name` (ports, logs, stop)."""
    port = free_port()
    env = {**stack.env, f"VAXREC_{service.upper()}_PORT": str(port)}
    stack.ports[name] = port
    log = (stack.logs / f"{name}.log").open("ab")
    stack.processes[name] = subprocess.Popen(
        [sys.executable, "-m", f"services.{service}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    log.close()
