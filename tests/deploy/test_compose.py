"""docker-compose.yml: valid against the Compose specification, and shaped as design.md says."""

from __future__ import annotations

import copy
import importlib
import re
import tomllib
from typing import Any

import jsonschema
import pytest

from services.notifier._settings import DEVELOPMENT_CONTACT_KEY, NotifierSettings
from tests.deploy._files import (
    APP_SERVICES,
    COMPOSE_SCHEMA,
    PORTS,
    PUBLIC_SERVICES,
    ROOT,
    WORKERS,
    environment,
    load_compose,
    load_schema,
    secret_sources,
    with_defaults,
)
from vaxrec.settings import DEVELOPMENT_SECRETS, RuntimeSettings

ONE_SHOT = ("migrate",)
INFRASTRUCTURE = ("postgres", "rabbitmq")


def schema_errors(document: dict[str, Any]) -> list[str]:
    validator = jsonschema.Draft7Validator(load_schema())
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in validator.iter_errors(document)
    ]


@pytest.fixture
def compose() -> dict[str, Any]:
    return load_compose()


@pytest.fixture
def services(compose: dict[str, Any]) -> dict[str, dict[str, Any]]:
    found: dict[str, dict[str, Any]] = compose["services"]
    return found


# ---- the schema, and validation against it -------------------------------------------------------


def test_vendored_schema_is_a_valid_draft_07_schema() -> None:
    schema = load_schema()
    # Draft7Validator is right only while upstream stays on draft-07; fail loudly if it moves.
    assert schema["$schema"].rstrip("#") in {
        "http://json-schema.org/draft-07/schema",
        "https://json-schema.org/draft-07/schema",
    }
    assert schema["$id"] == "compose_spec.json"
    jsonschema.Draft7Validator.check_schema(schema)


def test_vendored_schema_has_its_provenance_noted() -> None:
    readme = (COMPOSE_SCHEMA.parent / "README.md").read_text()
    assert "compose-spec/compose-spec" in readme
    assert "Apache-2.0" in readme


def test_compose_file_is_valid_against_the_compose_specification(compose: dict[str, Any]) -> None:
    assert schema_errors(compose) == []


def test_compose_file_has_no_obsolete_version_key(compose: dict[str, Any]) -> None:
    assert "version" not in compose


def _set(document: dict[str, Any], path: str, value: Any) -> None:
    *parents, last = path.split("/")
    node = document
    for key in parents:
        node = node[key]
    node[last] = value


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param("volumez", {}, id="unknown top-level key"),
        pytest.param("services/signer/healthchek", {"test": ["NONE"]}, id="misspelt service key"),
        pytest.param("services/signer/secretz", ["signing_keys"], id="unknown service key"),
        pytest.param(
            "services/intake/depends_on/migrate",
            {"condition": "service_done"},
            id="unknown depends_on condition",
        ),
        pytest.param(
            "services/intake/depends_on/postgres",
            {"required": True},
            id="depends_on without a condition",
        ),
        pytest.param("services/viewer/ports", {"8081": 8081}, id="ports as a mapping"),
        pytest.param(
            "services/matcher/deploy/resources/limits/memry", "1G", id="unknown resource limit"
        ),
        pytest.param("services/bad name", {"image": "x"}, id="invalid service name"),
        pytest.param("secrets/signing_keys/path", "./.vaxrec/keys", id="unknown secret key"),
    ],
)
def test_validation_rejects_an_invalid_compose_file(
    compose: dict[str, Any], path: str, value: Any
) -> None:
    """The validator is strict: each of these small mistakes in a copy of the file is caught."""
    broken = copy.deepcopy(compose)
    _set(broken, path, value)
    assert schema_errors(broken), f"a compose file with {path} = {value!r} passed validation"


# ---- start order: health, then the one-shot migrate step -----------------------------------------


def test_every_long_running_container_has_a_healthcheck(
    services: dict[str, dict[str, Any]],
) -> None:
    assert set(services) == {*INFRASTRUCTURE, *ONE_SHOT, *APP_SERVICES}
    for name, service in services.items():
        check = service.get("healthcheck", {})
        if name in ONE_SHOT:
            # It exits; the cli image's HEALTHCHECK would only mark it unhealthy while it works.
            assert check == {"disable": True}, name
            continue
        assert check.get("test"), f"{name} has no healthcheck"
        assert not check.get("disable"), f"{name} disables its healthcheck"
        assert check["test"][0] in {"CMD", "CMD-SHELL"}, name


def test_infrastructure_healthchecks_ask_the_server_itself(
    services: dict[str, dict[str, Any]],
) -> None:
    assert services["postgres"]["image"].startswith("postgres:16")
    assert services["postgres"]["healthcheck"]["test"][1] == "pg_isready"
    assert services["rabbitmq"]["image"].startswith("rabbitmq:3.13-management")
    assert services["rabbitmq"]["healthcheck"]["test"][1] == "rabbitmq-diagnostics"


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_healthcheck_probes_its_own_port(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    command = " ".join(services[name]["healthcheck"]["test"])
    assert f"http://127.0.0.1:{PORTS[name]}/healthz" in command
    assert "curl" not in command
    assert "wget" not in command


@pytest.mark.parametrize("name", APP_SERVICES)
def test_port_table_matches_the_service_settings(name: str) -> None:
    module = importlib.import_module(f"services.{name}._settings")
    settings_classes = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type)
        and issubclass(obj, RuntimeSettings)
        and obj.__module__ == module.__name__
    ]
    assert len(settings_classes) == 1, f"services.{name}._settings: expected one settings class"
    [settings] = settings_classes
    assert settings.model_fields["port"].default == PORTS[name]


@pytest.mark.parametrize("name", APP_SERVICES)
def test_app_service_waits_for_healthy_backends_and_finished_migrations(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    assert services[name]["depends_on"] == {
        "postgres": {"condition": "service_healthy"},
        "rabbitmq": {"condition": "service_healthy"},
        "migrate": {"condition": "service_completed_successfully"},
    }


def test_migrate_is_a_one_shot_step_that_migrates_then_seeds(
    services: dict[str, dict[str, Any]],
) -> None:
    migrate = services["migrate"]
    assert migrate["build"]["args"] == {"SERVICE": "cli"}
    assert migrate["depends_on"] == {"postgres": {"condition": "service_healthy"}}
    assert migrate["restart"] == "no"
    command = migrate["command"]
    script = command if isinstance(command, str) else " ".join(command)
    # `&&`: no seeding into a half-migrated database, and a failure fails the step.
    assert re.search(r"vaxrec migrate\s*&&\s*vaxrec registry load-demo", script), script
    assert "ports" not in migrate
    assert "secrets" not in migrate


# ---- images --------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", [*APP_SERVICES, "migrate"])
def test_service_builds_the_one_dockerfile_with_its_own_service_arg(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    build = services[name]["build"]
    assert build["context"] == "."
    assert build.get("dockerfile", "Dockerfile") == "Dockerfile"
    expected = "cli" if name == "migrate" else name
    assert build["args"] == {"SERVICE": expected}
    assert "image" not in services[name], "a registry image would be pulled instead of this build"

    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]
    assert expected in extras, f"pyproject.toml has no [{expected}] extra to install"
    if name != "migrate":
        assert (ROOT / "services" / name / "__main__.py").is_file()


# ---- exposure, scaling, privileges ---------------------------------------------------------------


def test_only_intake_and_viewer_publish_ports(services: dict[str, dict[str, Any]]) -> None:
    assert {name for name, s in services.items() if s.get("ports")} == set(PUBLIC_SERVICES)
    for name in PUBLIC_SERVICES:
        [port] = services[name]["ports"]
        assert isinstance(port, dict), "use the long port syntax"
        assert port["target"] == PORTS[name]
        assert with_defaults(port["host_ip"]) == "127.0.0.1", "bind to loopback unless asked"


@pytest.mark.parametrize("name", WORKERS)
def test_worker_can_be_scaled(services: dict[str, dict[str, Any]], name: str) -> None:
    """`docker compose up --scale <worker>=3` needs no fixed host port and no fixed name."""
    worker = services[name]
    assert "ports" not in worker
    assert "container_name" not in worker
    assert "hostname" not in worker


def test_no_app_container_has_a_fixed_name(services: dict[str, dict[str, Any]]) -> None:
    assert [n for n in (*APP_SERVICES, "migrate") if "container_name" in services[n]] == []


@pytest.mark.parametrize("name", [*APP_SERVICES, "migrate"])
def test_app_container_is_unprivileged_and_read_only(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    service = services[name]
    uid, _, gid = with_defaults(service["user"]).partition(":")
    assert uid.isdigit(), f"{name}: user {service['user']!r} is not a numeric uid:gid"
    assert gid.isdigit(), f"{name}: user {service['user']!r} is not a numeric uid:gid"
    assert int(uid) != 0, f"{name} runs as root"
    assert int(gid) != 0, f"{name} runs in the root group"
    assert service["read_only"] is True
    assert "/tmp" in service["tmpfs"]
    assert "no-new-privileges:true" in service["security_opt"]
    assert service["cap_drop"] == ["ALL"]
    assert not service.get("cap_add")
    assert not service.get("privileged")


@pytest.mark.parametrize("name", [*APP_SERVICES, *INFRASTRUCTURE])
def test_long_running_container_restarts_and_is_limited(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    service = services[name]
    assert service["restart"] == "unless-stopped"
    limits = service["deploy"]["resources"]["limits"]
    assert float(limits["cpus"]) > 0
    assert re.fullmatch(r"\d+[MG]", limits["memory"]), limits["memory"]


# ---- secrets: each goes only where it is used ----------------------------------------------------


def test_only_the_signer_holds_the_signing_key(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    [(secret_name, secret)] = compose["secrets"].items()
    assert secret["file"].startswith("./.vaxrec/"), "the key lives in the git-ignored .vaxrec/"

    holders = {name for name, s in services.items() if secret_name in secret_sources(s)}
    assert holders == {"signer"}
    readers = {n for n, s in services.items() if "VAXREC_SIGNER_KEYS" in environment(s)}
    assert readers == {"signer"}
    assert environment(services["signer"])["VAXREC_SIGNER_KEYS"] == f"/run/secrets/{secret_name}"
    [mount] = services["signer"]["secrets"]
    assert isinstance(mount, str), "a `target:` would move the key away from VAXREC_SIGNER_KEYS"

    for name, service in services.items():
        for volume in service.get("volumes", []):
            source = volume if isinstance(volume, str) else volume.get("source", "")
            assert ".vaxrec" not in source, f"{name} mounts {source}"


@pytest.mark.parametrize(
    ("variable", "holders"),
    [
        ("VAXREC_PEPPER", {"intake", "signer", "viewer"}),
        ("VAXREC_RID_SECRET", {"signer"}),
        ("VAXREC_ISSUER", {"signer", "viewer"}),
        ("VAXREC_VIEWER_PUBLIC_URL", {"notifier"}),
        ("VAXREC_CONTACT_HASH_KEY", {"notifier"}),
        ("TWILIO_AUTH_TOKEN", {"notifier"}),
        ("SENDGRID_API_KEY", {"notifier"}),
    ],
)
def test_setting_goes_only_to_the_services_that_use_it(
    services: dict[str, dict[str, Any]], variable: str, holders: set[str]
) -> None:
    assert {n for n, s in services.items() if variable in environment(s)} == holders


def test_provider_settings_pass_through_unset_by_default(
    services: dict[str, dict[str, Any]],
) -> None:
    """No credentials on the host means none in the container: the development outbox. An
    empty value would not do: the notifier counts any TWILIO_ACCOUNT_SID as configured."""
    provider_settings = {
        alias
        for field in NotifierSettings.model_fields.values()
        if isinstance(alias := field.validation_alias, str)
        and alias.startswith(("TWILIO_", "SENDGRID_"))
        and not alias.endswith(("_API_BASE", "_API_HOST"))  # local fakes in tests only
    }
    assert "TWILIO_ACCOUNT_SID" in provider_settings
    env = environment(services["notifier"])
    assert {v: env.get(v, "<missing>") for v in sorted(provider_settings)} == dict.fromkeys(
        sorted(provider_settings)
    )


def test_secret_defaults_are_the_placeholders_refused_outside_development(
    services: dict[str, dict[str, Any]],
) -> None:
    placeholders = {
        "VAXREC_PEPPER": DEVELOPMENT_SECRETS,
        "VAXREC_RID_SECRET": DEVELOPMENT_SECRETS,
        "VAXREC_CONTACT_HASH_KEY": {DEVELOPMENT_CONTACT_KEY},
    }
    seen = set()
    for name, service in services.items():
        for variable, value in environment(service).items():
            if variable in placeholders:
                seen.add(variable)
                assert with_defaults(value or "") in placeholders[variable], (name, variable)
    assert seen == set(placeholders)
    for name in APP_SERVICES:
        setting = environment(services[name])["VAXREC_ENVIRONMENT"] or ""
        assert with_defaults(setting) == "development", name


@pytest.mark.parametrize("name", [*APP_SERVICES, "migrate"])
def test_app_container_reaches_the_compose_backends(
    services: dict[str, dict[str, Any]], name: str
) -> None:
    env = environment(services[name])
    assert "@postgres:5432/" in (env["VAXREC_DATABASE_URL"] or "")
    assert "@rabbitmq:5672/" in (env["VAXREC_AMQP_URL"] or "")


def test_signer_and_backends_have_no_route_out(
    compose: dict[str, Any], services: dict[str, dict[str, Any]]
) -> None:
    internal = {n for n, net in compose["networks"].items() if (net or {}).get("internal")}
    for name in ("signer", "matcher", "migrate", *INFRASTRUCTURE):
        assert set(services[name]["networks"]) <= internal, name
