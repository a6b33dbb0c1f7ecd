"""The intake and viewer OpenAPI documents: they match the apps' routes, and schemathesis finds
no 5xx in over a thousand generated requests against each real app.

Each app is the service's own `create_app`, served on a local port from a thread of this
process, with its real Postgres database or RabbitMQ namespace behind it.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import secrets
from collections.abc import AsyncIterator, Callable, Iterator

import pytest
import requests
import schemathesis
import yaml
from aiohttp import web
from hypothesis import HealthCheck, Phase, Verbosity, given, settings
from hypothesis import seed as hypothesis_seed
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import positive_data_acceptance
from schemathesis.core.failures import FailureGroup

from services.intake._app import create_app as create_intake_app
from services.intake._settings import IntakeSettings
from services.viewer._app import create_app as create_viewer_app
from services.viewer._settings import ViewerSettings
from tests.support.broker import delete_topology
from tests.support.served import Served, served_in_thread
from tests.support.servers import BrokerServer, DatabaseServer, throwaway_database
from tests.support.stack import ROOT
from vaxrec.runtime import open_resources, topology_for

pytestmark = [pytest.mark.reliability, pytest.mark.timeout(180)]

OPENAPI = ROOT / "contracts" / "openapi"
#: Generated requests each app must answer without a 5xx.
REQUESTS = 1000

#: Every schemathesis check but these. Both: the intake's business rules (no PIN of one digit
#: four times, a birth date from 1900 to today) are written in the document's descriptions,
#: not in JSON Schema, so a schema-valid request may rightly get a 422.
EXCLUDED_CHECKS = {
    "intake": [positive_data_acceptance],
    "viewer": [positive_data_acceptance],
}
#: An invalid request may also be refused as too large (a text over its limit is both).
CONFIG = schemathesis.Config.from_dict(
    {
        "checks": {
            "negative_data_rejection": {
                "expected-statuses": ["400", "404", "405", "413", "415", "422"]
            }
        }
    }
)

#: Routes the apps register that are not JSON endpoints, so the documents leave them out.
NOT_JSON = {
    "intake": {
        ("GET", "/"): "the HTML form",
        ("POST", "/"): "the HTML form's submission",
        ("GET", "/received"): "the HTML page after a submission",
        ("GET", "/static"): "the form's stylesheet and scripts",
        ("GET", "/metrics"): "Prometheus text",
    },
    "viewer": {
        ("GET", "/c/{token}"): "the HTML PIN page",
        ("POST", "/c/{token}"): "the HTML record page",
        ("GET", "/c/{token}/file"): "a download behind the page's session cookie",
        ("GET", "/c/{token}/qr.png"): "a PNG behind the page's session cookie",
        ("GET", "/verify"): "the HTML verify page",
        ("GET", "/static"): "the pages' stylesheet and scripts",
        ("GET", "/metrics"): "Prometheus text",
    },
}


@contextlib.asynccontextmanager
async def intake_app(amqp_url: str, namespace: str) -> AsyncIterator[web.Application]:
    settings = IntakeSettings(amqp_url=amqp_url, broker_namespace=namespace)
    async with open_resources(settings, "intake", database=False) as resources:
        yield create_intake_app(settings, resources.bus.publisher, resources.readiness)


@contextlib.asynccontextmanager
async def viewer_app(database_url: str) -> AsyncIterator[web.Application]:
    settings = ViewerSettings(database_url=database_url, db_pool_size=4)
    async with open_resources(settings, "viewer", broker=False) as resources:
        yield create_viewer_app(settings, resources.db, resources.readiness)


@pytest.fixture(scope="module")
def intake(amqp_url: str) -> Iterator[Served]:
    settings = IntakeSettings(
        amqp_url=amqp_url, broker_namespace=f"vaxrec-api-{secrets.token_hex(4)}"
    )
    try:
        with served_in_thread(lambda: intake_app(amqp_url, settings.broker_namespace)) as served:
            yield served
    finally:
        asyncio.run(delete_topology(amqp_url, topology_for(settings)))


@pytest.fixture(scope="module")
def viewer(servers: tuple[DatabaseServer, BrokerServer]) -> Iterator[Served]:
    with throwaway_database(servers[0]) as url, served_in_thread(lambda: viewer_app(url)) as s:
        yield s


def registered_routes(app: web.Application) -> set[tuple[str, str]]:
    """(method, path template) of every route, HEAD left out (aiohttp adds it to each GET)."""
    routes = set()
    for route in app.router.routes():
        if route.method == "HEAD" or route.resource is None:
            continue
        info = route.resource.get_info()
        path = info.get("path") or info.get("formatter") or str(info.get("prefix", ""))
        routes.add((route.method, path.rstrip("/") or "/"))
    return routes


def documented_routes(name: str) -> set[tuple[str, str]]:
    document = yaml.safe_load((OPENAPI / f"{name}.yaml").read_text())
    return {
        (method.upper(), path)
        for path, operations in document["paths"].items()
        for method in operations
        if method in ("get", "post", "put", "patch", "delete")
    }


@pytest.mark.parametrize("name", ["intake", "viewer"])
def test_the_document_describes_exactly_the_json_routes_the_app_registers(
    name: str, request: pytest.FixtureRequest
) -> None:
    served: Served = request.getfixturevalue(name)
    registered = registered_routes(served.app)
    documented = documented_routes(name)
    assert documented - registered == set(), "documented but not served"
    assert registered - documented - set(NOT_JSON[name]) == set(), "served but not documented"
    assert documented & set(NOT_JSON[name]) == set()


def generate(
    operation: schemathesis.APIOperation,
    mode: GenerationMode,
    *,
    examples: int,
    round_: int,
    send: Callable[[schemathesis.Case], None],
) -> bool:
    """Send up to `examples` generated requests; False if the operation has none of `mode`."""

    @hypothesis_seed(round_)
    @settings(
        max_examples=examples,
        deadline=None,
        database=None,
        phases=[Phase.generate],
        suppress_health_check=list(HealthCheck),
        verbosity=Verbosity.quiet,
    )
    @given(case=operation.as_strategy(generation_mode=mode))
    def run(case: schemathesis.Case) -> None:
        send(case)

    try:
        run()
    except Unsatisfiable:
        # An operation with no parameters and no body has no invalid request to make.
        assert mode is GenerationMode.NEGATIVE, operation.label
        return False
    return True


def fuzz(name: str, base_url: str) -> tuple[collections.Counter[int], list[str], list[str]]:
    """Run schemathesis until at least REQUESTS requests were made.

    Returns the statuses, the requests answered with a 5xx, and every failed check."""
    schema = schemathesis.openapi.from_path(OPENAPI / f"{name}.yaml", config=CONFIG)
    operations = [result.ok() for result in schema.get_all_operations()]
    statuses: collections.Counter[int] = collections.Counter()
    failures: list[str] = []
    server_errors: list[str] = []
    session = requests.Session()

    def send(case: schemathesis.Case) -> None:
        response = case.call(base_url=base_url, session=session, timeout=30)
        statuses[response.status_code] += 1
        where = f"{case.method} {case.formatted_path}"
        if response.status_code >= 500:
            server_errors.append(f"{where}: {case.as_curl_command()}")
        try:
            case.validate_response(response, excluded_checks=EXCLUDED_CHECKS[name])
        except FailureGroup as group:
            failures.extend(f"{where}: {e}\n{case.as_curl_command()}" for e in group.exceptions)

    plans = [(op, mode) for op in operations for mode in GenerationMode]
    examples = REQUESTS // len(plans) + 10
    round_ = 0
    while statuses.total() < REQUESTS:
        round_ += 1
        assert round_ <= 20, "the documents allow too few distinct requests"
        for operation, mode in list(plans):
            if not generate(operation, mode, examples=examples, round_=round_, send=send):
                plans.remove((operation, mode))
    return statuses, server_errors, failures


@pytest.mark.parametrize("name", ["intake", "viewer"])
def test_schemathesis_finds_no_server_error(name: str, request: pytest.FixtureRequest) -> None:
    served: Served = request.getfixturevalue(name)
    statuses, server_errors, failures = fuzz(name, served.url)
    print(
        f"\nschemathesis {name}: {statuses.total()} requests, {len(server_errors)} 5xx; "
        + ", ".join(f"{s}: {n}" for s, n in sorted(statuses.items()))
    )
    assert statuses.total() >= REQUESTS
    assert not server_errors, server_errors[:5]
    assert not failures, failures[:5]


@pytest.mark.parametrize(
    "body",
    [
        pytest.param(b"[]--b--\r\n", id="no starting boundary"),
        pytest.param(b"--b\r\nnot a header\r\n\r\nx\r\n--b--\r\n", id="bad part header"),
    ],
)
def test_a_malformed_multipart_form_is_refused_not_a_server_error(
    viewer: Served, body: bytes
) -> None:
    """Found by the fuzzing above: aiohttp's multipart reader raised out of the handler (500)."""
    response = requests.post(
        f"{viewer.url}/verify",
        data=body,
        headers={"Content-Type": "multipart/form-data; boundary=b", "Accept": "application/json"},
        timeout=30,
    )
    assert response.status_code == 400
    assert response.headers["Content-Type"].startswith("application/problem+json")
