"""The images' own Python programs, imported by path (they are not packages: `docker/` would shadow
the docker SDK), so their functions can be tested in-process without Docker."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

DOCKER = Path(__file__).resolve().parents[2] / "docker"


def load(name: str, path: Path) -> ModuleType:
    """Import the file at `path` as module `name` (once per session)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def bundles() -> ModuleType:
    """docker/artifacts/bundles.py (also importable as `bundles`, as the artifact server imports it)."""
    return load("bundles", DOCKER / "artifacts" / "bundles.py")


@pytest.fixture(scope="session")
def artifact_server(bundles: ModuleType) -> ModuleType:
    """docker/artifacts/server.py."""
    return load("dch_artifact_server", DOCKER / "artifacts" / "server.py")


@pytest.fixture(scope="session")
def backend_app() -> ModuleType:
    """docker/prodhost/app.py."""
    return load("dch_prodhost_app", DOCKER / "prodhost" / "app.py")
