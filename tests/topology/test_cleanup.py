"""harness.topology.cleanup with FakeContainerBackend: removal selected by labels, nothing else touched."""

from __future__ import annotations

import pytest

from harness.topology.backend import LABEL_MANAGED, LABEL_RUN
from harness.topology.cleanup import cleanup, leftovers
from harness.topology.fake import FakeContainerBackend


def labels(run: str) -> dict[str, str]:
    return {LABEL_MANAGED: "true", LABEL_RUN: run}


@pytest.fixture
def backend() -> FakeContainerBackend:
    fake = FakeContainerBackend()
    fake.add("r1-github", labels("r1"))
    fake.add("r1-runner-primary", labels("r1"), status="paused")
    fake.add("r1-prometheus", labels("r1"), status="exited")
    fake.add("r2-github", labels("r2"))
    fake.add("r2-runner-primary", labels("r2"))
    fake.add("user-postgres", {"com.example.app": "db"})
    fake.add("unlabelled", {})
    fake.add("not-managed", {LABEL_MANAGED: "false", LABEL_RUN: "r1"})
    fake.networks["net-r1"] = labels("r1")
    fake.networks["net-r2"] = labels("r2")
    fake.networks["user-net"] = {"com.example.app": "db"}
    return fake


def test_cleanup_of_one_run_removes_only_that_run(backend: FakeContainerBackend) -> None:
    report = cleanup(backend, "r1")
    assert sorted(report.containers) == ["r1-github", "r1-prometheus", "r1-runner-primary"]
    assert report.networks == ["net-r1"]
    assert sorted(backend.containers) == [
        "not-managed",
        "r2-github",
        "r2-runner-primary",
        "unlabelled",
        "user-postgres",
    ]
    assert sorted(backend.networks) == ["net-r2", "user-net"]


def test_containers_are_removed_before_networks(backend: FakeContainerBackend) -> None:
    cleanup(backend, "r1")
    kinds = [kind for kind, _ in backend.calls]
    assert kinds == ["remove", "remove", "remove", "remove_network"]


def test_cleanup_without_run_removes_every_managed_one(backend: FakeContainerBackend) -> None:
    report = cleanup(backend)
    assert sorted(report.containers) == [
        "r1-github",
        "r1-prometheus",
        "r1-runner-primary",
        "r2-github",
        "r2-runner-primary",
    ]
    assert sorted(report.networks) == ["net-r1", "net-r2"]
    assert sorted(backend.containers) == ["not-managed", "unlabelled", "user-postgres"]
    assert list(backend.networks) == ["user-net"]
    removed = {name for kind, name in backend.calls if kind in ("remove", "remove_network")}
    assert not removed & {"not-managed", "unlabelled", "user-postgres", "user-net"}


def test_cleanup_is_idempotent(backend: FakeContainerBackend) -> None:
    cleanup(backend, "r1")
    again = cleanup(backend, "r1")
    assert again.containers == []
    assert again.networks == []


def test_leftovers_lists_what_remains_with_status(backend: FakeContainerBackend) -> None:
    assert sorted(leftovers(backend, "r1")) == [
        "r1-github (running)",
        "r1-prometheus (exited)",
        "r1-runner-primary (paused)",
    ]
    cleanup(backend, "r1")
    assert leftovers(backend, "r1") == []
    assert sorted(leftovers(backend, "r2")) == ["r2-github (running)", "r2-runner-primary (running)"]


def test_leftovers_of_unknown_run_is_empty(backend: FakeContainerBackend) -> None:
    assert leftovers(backend, "r9") == []
