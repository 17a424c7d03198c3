"""harness.topology.cleanup with FakeContainerBackend: removal selected by labels, nothing else touched."""

from __future__ import annotations

import pytest
from docker.errors import APIError, NotFound

from harness.topology.backend import LABEL_MANAGED, LABEL_RUN, DockerBackend
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


def test_what_cannot_be_removed_is_named_and_the_rest_still_goes(
    backend: FakeContainerBackend, monkeypatch: pytest.MonkeyPatch
) -> None:
    remove = backend.remove_container

    def stuck(container_id: str) -> None:
        if container_id == "r1-github":
            raise APIError("500 Server Error: device or resource\nbusy")
        remove(container_id)

    monkeypatch.setattr(backend, "remove_container", stuck)
    report = cleanup(backend, "r1")
    assert sorted(report.containers) == ["r1-prometheus", "r1-runner-primary"]
    assert report.failed == ["container r1-github: 500 Server Error: device or resource busy"]
    assert report.networks == ["net-r1"]


class _Containers:
    """The engine's view while another client removes `busy`: 409 on remove, gone after `polls` gets."""

    def __init__(self, polls: int) -> None:
        self.polls = polls

    def get(self, container_id: str) -> object:
        if self.polls <= 0:
            raise NotFound("gone")
        self.polls -= 1
        return self

    status = "running"

    def remove(self, **_kwargs: object) -> None:
        response = type("R", (), {"status_code": 409, "reason": "Conflict", "url": "u"})()
        raise APIError("removal already in progress", response=response)  # type: ignore[arg-type]


def test_a_removal_already_under_way_is_waited_for_not_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    client = type("C", (), {"containers": _Containers(polls=3)})()
    monkeypatch.setattr("harness.topology.backend.time.sleep", lambda _s: None)
    DockerBackend(client).remove_container("busy")  # type: ignore[arg-type]


def test_a_removal_under_way_that_never_ends_is_raised(monkeypatch: pytest.MonkeyPatch) -> None:
    client = type("C", (), {"containers": _Containers(polls=10**9)})()
    monkeypatch.setattr("harness.topology.backend.REMOVAL_WAIT_S", 0.05)
    with pytest.raises(APIError):
        DockerBackend(client).remove_container("busy")  # type: ignore[arg-type]
