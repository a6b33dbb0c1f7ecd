"""The design's boundaries, checked on the source: services talk only through contracts."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).parents[1]
SERVICES = sorted(p.name for p in (ROOT / "services").iterdir() if (p / "__main__.py").exists())


def imported_modules(package: Path) -> set[tuple[Path, str]]:
    found: set[tuple[Path, str]] = set()
    for path in package.rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                found.update((path, alias.name) for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                found.add((path, node.module))
    return found


def test_the_five_services_exist() -> None:
    assert SERVICES == ["intake", "matcher", "notifier", "signer", "viewer"]


@pytest.mark.parametrize("service", SERVICES)
def test_no_service_imports_another(service: str) -> None:
    others = [f"services.{s}" for s in SERVICES if s != service]
    wrong = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path, module in imported_modules(ROOT / "services" / service)
        if any(module == o or module.startswith(o + ".") for o in others)
    ]
    assert not wrong


#: The operator's command line drives the services (`vaxrec keys` is the signer's key store,
#: `vaxrec run` starts them all, `vaxrec registry evaluate` scores the matcher); the runtime the
#: services share must not lean on any of them.
FRONT_ENDS = {ROOT / "vaxrec" / "cli.py", ROOT / "vaxrec" / "registry" / "_cli.py"}


@pytest.mark.parametrize("package", ["vaxrec", "contracts"])
def test_shared_code_imports_no_service(package: str) -> None:
    wrong = [
        f"{path.relative_to(ROOT)} imports {module}"
        for path, module in imported_modules(ROOT / package)
        if (module == "services" or module.startswith("services.")) and path not in FRONT_ENDS
    ]
    assert not wrong
