"""harness.topology.backend's DockerBackend against scripted engine answers: a removal another client
has under way is waited for, and the freezer's transient "unable to freeze" is retried."""

from __future__ import annotations

import pytest
from docker.errors import APIError, NotFound

from harness.topology.backend import DockerBackend


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


class _Freezer:
    """A container whose freezer fails `failures` times with runc's transient error, then freezes."""

    def __init__(self, failures: int) -> None:
        self.failures, self.calls = failures, 0

    def pause(self) -> None:
        self.calls += 1
        if self.calls <= self.failures:
            raise APIError("Cannot pause container x: OCI runtime pause failed: unable to freeze: unknown")


def test_a_transient_unable_to_freeze_is_retried(monkeypatch: pytest.MonkeyPatch) -> None:
    frozen = _Freezer(failures=2)
    client = type("C", (), {"containers": type("Cs", (), {"get": staticmethod(lambda _name: frozen)})()})()
    monkeypatch.setattr("harness.topology.backend.time.sleep", lambda _s: None)
    DockerBackend(client).pause("runner")  # type: ignore[arg-type]
    assert frozen.calls == 3
    stuck = _Freezer(failures=99)
    client = type("C", (), {"containers": type("Cs", (), {"get": staticmethod(lambda _name: stuck)})()})()
    with pytest.raises(APIError):
        DockerBackend(client).pause("runner")  # type: ignore[arg-type]
