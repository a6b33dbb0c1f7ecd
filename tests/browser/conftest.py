"""The five services as processes, and Debian's Chromium driven by Playwright.

Never a downloaded browser: Playwright launches /usr/bin/chromium (`apt-get install chromium`).
axe-core comes from the npm registry (`npm ci` here, see package.json) and is evaluated into
each page through the DevTools protocol, which the page's Content-Security-Policy does not
govern, so the policy under test stays exactly the one residents get.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import re
import time
import urllib.request
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import asyncpg
import pytest

from tests.support.broker import delete_namespace
from tests.support.stack import ROOT, Stack, stack_with_new_key, vaxrec_cli

CHROMIUM = Path("/usr/bin/chromium")
AXE = Path(__file__).parent / "node_modules" / "axe-core" / "axe.min.js"
LINK = re.compile(r"/c/([A-Za-z0-9_-]{43})\b")
DEMO = {
    "first_name": "John",
    "last_name": "Doe",
    "date_of_birth": "1951-08-15",
    "phone": "+1 213 555 0100",
    "email": "john.doe@example.org",
}
PHONE_E164 = "+12135550100"


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.path).parents:
            item.add_marker(pytest.mark.browser)
            if not CHROMIUM.exists():
                item.add_marker(
                    pytest.mark.skip(
                        reason="no /usr/bin/chromium: apt-get install -y chromium "
                        "(.ci/run installs it, so CI always runs these)"
                    )
                )


def artifacts_dir() -> Path:
    base = Path(os.environ.get("ARTIFACTS_DIR", ROOT / ".vaxrec" / "artifacts"))
    path = base / "browser"
    path.mkdir(parents=True, exist_ok=True)
    return path


# Module scope, not session: Playwright's sync API keeps an event loop running on the main
# thread while it is open, and every async test after this module needs that thread free.
@pytest.fixture(scope="module")
def stack(
    module_database_url: str,
    amqp_url: str,
    broker_namespace: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Stack]:
    tmp = tmp_path_factory.mktemp("stack")
    namespace = f"{broker_namespace}-browser"
    demo_env = {"PATH": "/usr/bin:/bin", "VAXREC_DATABASE_URL": module_database_url}
    vaxrec_cli("registry", "load-demo", "--residents", "50", env=demo_env)
    try:
        with stack_with_new_key(
            tmp,
            database_url=module_database_url,
            amqp_url=amqp_url,
            namespace=namespace,
            # Every test asks for the demo resident's record: more than the per-contact limit.
            extra_env={"VAXREC_CONTACT_LIMIT": "1000"},
        ) as stack:
            yield stack
    finally:
        asyncio.run(delete_namespace(amqp_url, namespace))


@pytest.fixture(scope="module")
def chromium(stack: Stack) -> Iterator[Any]:
    """One Chromium for the module; each test gets a fresh context (cookies, storage).

    Started after the stack: Playwright's sync API keeps an event loop running on this thread,
    and the stack's set-up needs asyncio.run.
    """
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=["--no-sandbox"]
        )
        try:
            yield browser
        finally:
            browser.close()


@pytest.fixture
def page(chromium: Any, request: pytest.FixtureRequest) -> Iterator[Any]:
    context = chromium.new_context(locale="en-US", accept_downloads=True)
    context.set_default_timeout(10_000)
    page = context.new_page()
    violations: list[str] = []
    # A policy violation (an inline script or style the CSP blocks) is a bug, not noise.
    page.on(
        "console",
        lambda m: violations.append(m.text) if "Content Security Policy" in m.text else None,
    )
    try:
        yield page
    finally:
        with contextlib.suppress(Exception):
            page.screenshot(path=artifacts_dir() / f"{request.node.name}-last.png", full_page=True)
        context.close()
    assert violations == []


def outbox_count(stack: Stack, to: str) -> int:
    return sum(1 for m in _outbox(stack) if m["to"] == to)


def _outbox(stack: Stack) -> list[dict[str, str]]:
    with urllib.request.urlopen(f"{stack.url('viewer')}/dev/outbox", timeout=5) as response:
        messages: list[dict[str, str]] = json.loads(response.read())
    return messages


def wait_for_link(stack: Stack, to: str, seen: int, wait_s: float = 30) -> str:
    """The link in the next development-outbox message to `to`, as a resident would click it."""
    deadline = time.monotonic() + wait_s
    while time.monotonic() < deadline:
        mine = [m for m in _outbox(stack) if m["to"] == to]
        if len(mine) > seen:
            match = LINK.search(mine[0]["body"])  # newest first
            assert match, mine[0]["body"]
            return f"{stack.url('viewer')}/c/{match.group(1)}"
        time.sleep(0.05)
    raise AssertionError(f"no message within {wait_s}s")


def request_by_api(stack: Stack, pin: str = "4829", language: str = "en") -> str:
    """Ask for the demo resident's record through the JSON API; the link it brings."""
    seen = outbox_count(stack, PHONE_E164)
    body = {
        "first_name": DEMO["first_name"],
        "last_name": DEMO["last_name"],
        "date_of_birth": DEMO["date_of_birth"],
        "phone": DEMO["phone"],
        "pin": pin,
        "consent": True,
        "language": language,
    }
    request = urllib.request.Request(
        f"{stack.url('intake')}/api/v1/record-requests",
        data=json.dumps(body).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        assert response.status == 202
    return wait_for_link(stack, PHONE_E164, seen)


def card_by_api(stack: Stack, link: str, pin: str = "4829") -> dict[str, Any]:
    token = link.rsplit("/", 1)[1]
    request = urllib.request.Request(
        f"{stack.url('viewer')}/api/v1/cards/{token}",
        data=json.dumps({"pin": pin}).encode(),
        headers={"content-type": "application/json"},
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        card: dict[str, Any] = json.loads(response.read())
    return card


def expire(stack: Stack, link: str) -> None:
    """Age a link past its expiry, as 24 hours would."""
    from vaxrec.hashing import token_hash

    token = link.rsplit("/", 1)[1]
    pepper = stack.env.get("VAXREC_PEPPER", "dev-pepper-not-secret").encode()

    async def run() -> None:
        conn = await asyncpg.connect(stack.env["VAXREC_DATABASE_URL"])
        try:
            await conn.execute(
                "UPDATE cards.issued_cards SET expires_at = now() - interval '1 second' "
                "WHERE token_hash = $1",
                token_hash(pepper, token),
            )
        finally:
            await conn.close()

    # In a thread: Playwright's event loop is running on this one.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run()).result()


def check_accessibility(page: Any, name: str) -> None:
    """axe-core on the page as it is now: no serious or critical violation. Saves a screenshot."""
    page.screenshot(path=artifacts_dir() / f"{name}.png", full_page=True)
    if not AXE.exists():
        pytest.fail(f"{AXE} missing: run `npm ci` in tests/browser")
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(AXE.read_text() + "\n;undefined")
    result = page.evaluate(
        "async () => (await axe.run(document, {resultTypes: ['violations']})).violations"
    )
    bad = [
        (v["id"], v["impact"], [n["target"] for n in v["nodes"]][:3])
        for v in result
        if v["impact"] in ("serious", "critical")
    ]
    assert bad == [], f"{name}: {bad}"
