"""docker-compose.yml as operators run it: bounded logs and process limits on every container
(restart policies, CPU and memory limits and `--scale` are checked in test_compose.py)."""

from __future__ import annotations

import re
from typing import Any

import pytest

from tests.deploy._files import APP_SERVICES, load_compose


@pytest.fixture
def services() -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = load_compose()["services"]
    return found


def test_every_container_keeps_bounded_logs(services: dict[str, dict[str, Any]]) -> None:
    for name, service in services.items():
        logging = service.get("logging")
        assert logging, f"{name} logs without bound (docker's default json-file keeps everything)"
        assert logging["driver"] == "json-file"
        assert re.fullmatch(r"\d+[km]", logging["options"]["max-size"]), name
        assert int(logging["options"]["max-file"]) >= 1, name


@pytest.mark.parametrize("name", [*APP_SERVICES, "migrate"])
def test_app_container_has_a_process_limit(services: dict[str, dict[str, Any]], name: str) -> None:
    limits = services[name]["deploy"]["resources"]["limits"]
    assert 32 <= int(limits["pids"]) <= 4096
