"""`vaxrec run` starts all five services with honcho and stops them together."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
import urllib.request
from contextlib import suppress
from pathlib import Path

import pytest

from tests.support.stack import ROOT, SERVICES, free_port

pytestmark = pytest.mark.e2e


def test_vaxrec_run_starts_and_stops_all_five(
    database_url: str, amqp_url: str, broker_namespace: str, tmp_path: Path
) -> None:
    ports = {name: free_port() for name in SERVICES}
    env = {
        **os.environ,
        "VAXREC_DATABASE_URL": database_url,
        "VAXREC_AMQP_URL": amqp_url,
        "VAXREC_BROKER_NAMESPACE": broker_namespace,
        "VAXREC_RETRY_DELAYS_MS": "[200,400]",
        "VAXREC_SIGNER_KEYS": str(tmp_path / "keys"),
        "VAXREC_LOG_FORMAT": "json",
        **{f"VAXREC_{name.upper()}_PORT": str(port) for name, port in ports.items()},
    }
    subprocess.run(
        [sys.executable, "-m", "vaxrec.cli", "keys", "generate", "--dir", str(tmp_path / "keys")],
        env=env,
        check=True,
        capture_output=True,
    )
    log = (tmp_path / "run.log").open("wb")
    runner = subprocess.Popen(
        [sys.executable, "-m", "vaxrec.cli", "run"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 40
        ready: set[str] = set()
        while ready != set(SERVICES) and time.monotonic() < deadline:
            for name, port in ports.items():
                with (
                    suppress(OSError),
                    urllib.request.urlopen(f"http://127.0.0.1:{port}/readyz", timeout=2) as r,
                ):
                    if r.status == 200:
                        ready.add(name)
            time.sleep(0.2)
        output = (tmp_path / "run.log").read_text(errors="replace")
        assert ready == set(SERVICES), output[-3000:]
        assert f"http://127.0.0.1:{ports['intake']}/api/v1/record-requests" in output
        assert "John Doe" in output
    finally:
        runner.send_signal(signal.SIGINT)
        try:
            code = runner.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(runner.pid, signal.SIGKILL)
            raise
        log.close()
    assert code in (0, 130, -signal.SIGINT)
