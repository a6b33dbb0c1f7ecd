"""Fixtures for card tests."""

from __future__ import annotations

from pathlib import Path

import pytest
from joserfc.jwk import ECKey

from tests.shc.builders import Vectors


@pytest.fixture
def vectors(shared_dir: Path) -> Vectors:
    return Vectors(shared_dir / "vectors" / "shc")


@pytest.fixture(scope="session")
def key() -> ECKey:
    """A fresh signing key, shared by the session's tests."""
    return ECKey.generate_key("P-256", private=True)
