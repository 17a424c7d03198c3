"""Throwaway containers of the runner image for the Docker-backed fault tests: labelled, always removed."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from harness.bootstrap.images import image_tags
from harness.topology.backend import LABEL_MANAGED, LABEL_RUN, DockerBackend

ROOT = Path(__file__).resolve().parents[2]
Start = Callable[..., str]


@pytest.fixture
def throwaway() -> Iterator[tuple[DockerBackend, Start]]:
    """(backend, start): start(suffix, command=["sleep", "infinity"], **run_kwargs) runs one container of this
    test's run and returns its name; every container of the run is removed at the end, whatever happened."""
    backend, run = DockerBackend(), f"test-{uuid.uuid4().hex[:8]}"

    def start(suffix: str, command: list[str] | None = None, **kwargs: Any) -> str:
        name = f"dch-{run}-{suffix}"
        backend.client.containers.run(
            image_tags(ROOT)["runner"],
            command or ["sleep", "infinity"],
            name=name,
            detach=True,
            labels={LABEL_MANAGED: "true", LABEL_RUN: run},
            **kwargs,
        )
        return name

    try:
        yield backend, start
    finally:
        for container in backend.list_containers({LABEL_RUN: run}):
            backend.remove_container(container.id)
        backend.client.close()


@pytest.fixture
def runner(throwaway: tuple[DockerBackend, Start]) -> tuple[DockerBackend, str]:
    """One idle throwaway container of the runner image."""
    backend, start = throwaway
    return backend, start("runner")


@pytest.fixture
def pair(throwaway: tuple[DockerBackend, Start]) -> tuple[DockerBackend, str, str]:
    """Two idle throwaway containers of the runner image, on the default bridge."""
    backend, start = throwaway
    return backend, start("a"), start("b")
