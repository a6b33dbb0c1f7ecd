"""The Dockerfile and .dockerignore, read as text (no Docker engine is needed or assumed)."""

from __future__ import annotations

import http.server
import json
import os
import re
import subprocess
import sys
import threading
import tomllib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.deploy._files import DOCKERFILE, DOCKERIGNORE, PORTS, ROOT, glob_regex


@dataclass(frozen=True)
class Instruction:
    keyword: str
    args: str


def instructions() -> list[Instruction]:
    """The Dockerfile's instructions, with continuation lines joined and comments dropped."""
    found: list[Instruction] = []
    pending = ""
    for raw in DOCKERFILE.read_text().splitlines():
        line = raw.strip()
        if not pending and (not line or line.startswith("#")):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        keyword, _, args = (pending + line).partition(" ")
        found.append(Instruction(keyword.upper(), args.strip()))
        pending = ""
    assert not pending, "the Dockerfile ends inside a continued line"
    return found


def stages() -> list[list[Instruction]]:
    """Instructions grouped by build stage (the global ARGs before the first FROM are dropped)."""
    grouped: list[list[Instruction]] = []
    for instruction in instructions():
        if instruction.keyword == "FROM":
            grouped.append([])
        if grouped:
            grouped[-1].append(instruction)
    return grouped


def only(stage: list[Instruction], keyword: str) -> list[str]:
    return [i.args for i in stage if i.keyword == keyword]


def exec_form(args: str) -> list[str]:
    """A JSON-array argument; Docker silently runs anything else through a shell."""
    value = json.loads(args)
    assert isinstance(value, list), args
    assert all(isinstance(v, str) for v in value), args
    return value


def test_base_image_is_python_3_11_slim() -> None:
    global_args = dict(a.partition("=")[::2] for a in only(instructions()[: _first_from()], "ARG"))
    for stage in stages():
        image = re.sub(r"\$\{(\w+)\}", lambda m: global_args[m.group(1)], stage[0].args.split()[0])
        assert image == "python:3.11-slim", stage[0].args


def _first_from() -> int:
    return next(n for n, i in enumerate(instructions()) if i.keyword == "FROM")


def test_multi_stage_build_takes_the_service_arg_in_every_stage_that_uses_it() -> None:
    assert len(stages()) >= 2, "build tools and pip caches stay out of the runtime image"
    for stage in stages():
        uses = any("SERVICE" in i.args for i in stage[1:] if i.keyword != "ARG")
        declares = any(a.split("=")[0] == "SERVICE" for a in only(stage, "ARG"))
        # An ARG is scoped to its stage: without the declaration ${SERVICE} is empty there.
        assert declares or not uses, f"stage {stage[0].args!r} uses SERVICE without ARG SERVICE"
    assert any(a == "SERVICE" for a in only(stages()[-1], "ARG"))


def test_installs_the_project_with_only_its_service_extra() -> None:
    pip_installs = [r for r in only(stages()[0], "RUN") if "pip install" in r]
    assert len(pip_installs) == 1, pip_installs
    [command] = pip_installs
    assert '".[${SERVICE}]"' in command
    assert " -e " not in command
    assert "--editable" not in command
    assert "[all]" not in DOCKERFILE.read_text()
    assert "[test]" not in DOCKERFILE.read_text()


def test_buildkit_features_are_enabled_where_used() -> None:
    text = DOCKERFILE.read_text()
    if "--mount=" in text:
        assert text.startswith("# syntax=docker/dockerfile:1")


def test_runtime_stage_runs_as_a_fixed_non_root_user() -> None:
    runtime = stages()[-1]
    users = only(runtime, "USER")
    assert users, "the runtime stage never sets USER, so it runs as root"
    uid, _, gid = users[-1].partition(":")
    assert uid == "10001"
    assert gid in {"", "10001"}
    assert any("--uid 10001" in r for r in only(runtime, "RUN")), "create the user with that uid"
    assert [i.keyword for i in runtime].index("USER") > max(
        n for n, i in enumerate(runtime) if i.keyword in {"RUN", "COPY"}
    ), "nothing after USER may need root"


def test_runtime_environment_for_python() -> None:
    env = " ".join(only(stages()[-1], "ENV"))
    assert "PYTHONDONTWRITEBYTECODE=1" in env
    assert "PYTHONUNBUFFERED=1" in env
    assert "VAXREC_SERVICE=${SERVICE}" in env


def test_no_curl_or_wget() -> None:
    commands = [i.args for i in instructions() if i.keyword in {"RUN", "HEALTHCHECK", "CMD"}]
    assert not [c for c in commands if re.search(r"\b(curl|wget)\b", c)]


def _healthcheck() -> list[str]:
    [check] = only(stages()[-1], "HEALTHCHECK")
    options, _, command = check.partition("CMD ")
    assert "--interval=" in options
    assert "--timeout=" in options
    argv = exec_form(command)
    assert argv[:2] == ["python", "-c"]
    return argv


def _cmd() -> list[str]:
    [cmd] = only(stages()[-1], "CMD")
    return exec_form(cmd)


class _Healthz(http.server.BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        self.send_response(200 if self.path == "/healthz" else 404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def healthz_port() -> Iterator[int]:
    with http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Healthz) as server:
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        yield server.server_address[1]
        server.shutdown()
        thread.join()


def _run_healthcheck(env: dict[str, str]) -> int:
    code = _healthcheck()[2]
    clean = {k: v for k, v in os.environ.items() if not k.startswith("VAXREC_")}
    return subprocess.run(
        [sys.executable, "-c", code], env={**clean, **env}, capture_output=True, timeout=30
    ).returncode


def test_image_healthcheck_passes_on_a_live_healthz_and_fails_without(healthz_port: int) -> None:
    env = {"VAXREC_SERVICE": "signer", "VAXREC_SIGNER_PORT": str(healthz_port)}
    assert _run_healthcheck(env) == 0
    closed = {"VAXREC_SERVICE": "signer", "VAXREC_SIGNER_PORT": "9"}  # discard: nothing listens
    assert _run_healthcheck(closed) != 0


def test_image_healthcheck_knows_every_service_port() -> None:
    code = _healthcheck()[2]
    for name, port in PORTS.items():
        assert f"'{name}': {port}" in code


def _fake_bin(tmp_path: Path) -> Path:
    """Stand-ins for `python` and `vaxrec` that print their PID and arguments."""
    for program in ("python", "vaxrec"):
        stub = tmp_path / program
        stub.write_text(f'#!/bin/sh\necho "$$ {program} $*"\n')
        stub.chmod(0o755)
    return tmp_path


@pytest.mark.parametrize(
    ("service", "expected"),
    [
        *((name, f"python -m services.{name}") for name in PORTS),
        ("cli", "vaxrec --help"),
    ],
)
def test_default_command_execs_the_built_service(
    tmp_path: Path, service: str, expected: str
) -> None:
    env = {"PATH": f"{_fake_bin(tmp_path)}:/usr/bin:/bin", "VAXREC_SERVICE": service}
    with subprocess.Popen(_cmd(), env=env, stdout=subprocess.PIPE, text=True) as process:
        stdout, _ = process.communicate(timeout=30)
    assert process.returncode == 0
    pid, _, command = stdout.strip().partition(" ")
    assert command == expected
    # Same PID as the process Docker starts: the shell exec'd it, so it is PID 1 in the
    # container and gets `docker stop`'s SIGTERM itself (a shell in between would swallow it).
    assert int(pid) == process.pid


# ---- .dockerignore -------------------------------------------------------------------------------


def in_build_context(path: str) -> bool:
    """Whether Docker sends `path` with the build context (moby's reading of .dockerignore: Go
    filepath.Match plus `**`; the last matching rule decides; a rule matching a folder matches
    everything in it)."""
    rules = []
    for line in DOCKERIGNORE.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            negated = line.startswith("!")
            rules.append((negated, glob_regex(os.path.normpath(line.lstrip("!").lstrip("/")))))
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    included = True
    for negated, rule in rules:
        if any(rule.fullmatch(p) for p in prefixes):
            included = negated
    return included


@pytest.mark.parametrize(
    "path",
    [
        ".vaxrec/keys/ACTIVE",
        ".vaxrec/keys/3kW9-example.json",
        ".env",
        ".git/config",
        ".venv/bin/python",
        "tests/deploy/test_compose.py",
        "tests/conftest.py",
        ".mypy_cache/3.11/cache.db",
        ".pytest_cache/v/cache/lastfailed",
        "vaxrec/__pycache__/cli.cpython-311.pyc",
        "services/signer/__pycache__/_keys.cpython-311.pyc",
        "vaxrec.egg-info/PKG-INFO",
        "docker-compose.yml",
        "Makefile",
    ],
)
def test_dockerignore_keeps_out(path: str) -> None:
    assert not in_build_context(path)


@pytest.mark.parametrize(
    "path",
    [
        "pyproject.toml",
        "README.md",
        "vaxrec/cli.py",
        "vaxrec/migrations/0001.registry.sql",
        "contracts/schemas/record.requested.v1.json",
        "services/signer/_keys.py",
        "services/viewer/templates/base.html",
        "vaxrec/locales/en/card_issued.txt",
    ],
)
def test_dockerignore_lets_in(path: str) -> None:
    assert in_build_context(path)


def test_every_copied_path_is_in_the_build_context() -> None:
    for args in only(stages()[0], "COPY") + only(stages()[-1], "COPY"):
        if args.startswith("--from="):
            continue
        *sources, _destination = args.split()
        for source in sources:
            assert in_build_context(source), f"COPY {source}: .dockerignore leaves it out"
            assert (DOCKERFILE.parent / source).exists(), f"COPY {source}: no such path"


# ---- what the image's (non-editable) install carries ---------------------------------------------


def _data_files() -> list[Path]:
    return sorted(
        path
        for top in ("vaxrec", "contracts", "services")
        for path in (ROOT / top).rglob("*")
        if path.is_file()
        and path.suffix not in {".py", ".pyc"}
        and "__pycache__" not in path.parts
        and not path.name.startswith("README")  # notes for people, not read at run time
    )


def test_the_image_install_carries_every_data_file() -> None:
    """The image installs a built wheel, not the source tree: a template, message or migration
    that pyproject's package-data does not name is missing in the container, though every
    editable development install finds it."""
    package_data: dict[str, list[str]] = tomllib.loads((ROOT / "pyproject.toml").read_text())[
        "tool"
    ]["setuptools"]["package-data"]
    missing = []
    for path in _data_files():
        relative = path.relative_to(ROOT)
        # Any folder above the file is a package (find with namespaces); its patterns and the
        # "*" patterns are globs relative to that folder.
        carried = any(
            glob_regex(pattern).fullmatch("/".join(relative.parts[depth:]))
            for depth in range(1, len(relative.parts))
            for pattern in (
                package_data.get(".".join(relative.parts[:depth]), []) + package_data.get("*", [])
            )
        )
        if not carried:
            missing.append(str(relative))
    assert not missing, f"not in [tool.setuptools.package-data], so not in the image: {missing}"
