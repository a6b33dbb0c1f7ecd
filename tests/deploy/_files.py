"""The deployment files under test, loaded once, and the facts they must agree with."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
COMPOSE_FILE = ROOT / "docker-compose.yml"
DOCKERFILE = ROOT / "Dockerfile"
DOCKERIGNORE = ROOT / ".dockerignore"
COMPOSE_SCHEMA = Path(__file__).with_name("compose-spec.json")

#: The five long-running services and the port each listens on (design.md, README).
PORTS = {"intake": 8080, "viewer": 8081, "matcher": 8091, "signer": 8092, "notifier": 8093}
APP_SERVICES = tuple(PORTS)
PUBLIC_SERVICES = ("intake", "viewer")
WORKERS = ("matcher", "signer", "notifier")

_DEFAULTED = re.compile(r"\$\{(\w+)(?::?-([^}]*))?\}")


def glob_regex(pattern: str) -> re.Pattern[str]:
    """A path glob as a regex: `*` and `?` stay within one folder, `**` spans folders."""
    out, i = "", 0
    while i < len(pattern):
        if pattern.startswith("**/", i):
            out, i = out + "(?:.*/)?", i + 3
        elif pattern.startswith("**", i):
            out, i = out + ".*", i + 2
        elif pattern[i] == "*":
            out, i = out + "[^/]*", i + 1
        elif pattern[i] == "?":
            out, i = out + "[^/]", i + 1
        elif pattern[i] == "[":
            end = pattern.index("]", i)
            out, i = out + pattern[i : end + 1], end + 1
        else:
            out, i = out + re.escape(pattern[i]), i + 1
    return re.compile(out)


def load_compose() -> dict[str, Any]:
    """A fresh copy each call, so a test may mutate what it gets."""
    import yaml

    document = yaml.safe_load(COMPOSE_FILE.read_text())
    assert isinstance(document, dict), "docker-compose.yml is not a mapping"
    return document


def load_schema() -> dict[str, Any]:
    schema = json.loads(COMPOSE_SCHEMA.read_text())
    assert isinstance(schema, dict)
    return schema


def with_defaults(value: str) -> str:
    """`value` as Compose interpolates it with no variables set: `${X:-d}` -> d, `${X}` -> ''."""
    return _DEFAULTED.sub(lambda m: m.group(2) or "", value)


def environment(service: dict[str, Any]) -> dict[str, str | None]:
    """A service's environment as a mapping, whichever of the two spellings it uses."""
    env = service.get("environment") or {}
    if isinstance(env, list):
        pairs = (item.split("=", 1) for item in env)
        return {p[0]: (p[1] if len(p) == 2 else None) for p in pairs}
    return {k: (None if v is None else str(v)) for k, v in env.items()}


def secret_sources(service: dict[str, Any]) -> list[str]:
    return [s if isinstance(s, str) else s["source"] for s in service.get("secrets", [])]
