"""ServiceDown: docker stop / start of a service's container; fake backend, then a throwaway HTTP service."""

from __future__ import annotations

import socket
import urllib.request
from pathlib import Path

import pytest

from harness.core.errors import FaultRevertFailed, Inconclusive
from harness.core.journal import Journal
from harness.core.waiting import wait_for
from harness.faults.service_down import ServiceDown
from harness.topology.backend import DockerBackend
from harness.topology.fake import FakeContainerBackend
from tests.faults.conftest import Start

ROOT = Path(__file__).resolve().parents[2]


class PortBackend(FakeContainerBackend):
    """The fake, where a start may publish the service on another host port (as Docker does)."""

    def __init__(self, move_ports: bool = False) -> None:
        super().__init__()
        self.move_ports = move_ports
        self.published["prometheus"] = {"9090/tcp": ["127.0.0.1:32768"]}

    def stop(self, name: str, timeout_s: float = 10.0) -> None:
        """Exited, nothing published."""
        super().stop(name, timeout_s)
        self.published[name] = {"9090/tcp": []}

    def start(self, name: str) -> None:
        """Running, published again (on the next port when `move_ports`)."""
        super().start(name)
        self.published[name] = {"9090/tcp": ["127.0.0.1:32769" if self.move_ports else "127.0.0.1:32768"]}


def make(move_ports: bool = False, **kwargs: object) -> tuple[PortBackend, Journal, ServiceDown]:
    backend = PortBackend(move_ports)
    backend.add("prometheus", {"dch.run": "r1"})
    journal = Journal("r1")
    kwargs.setdefault("answers", lambda: backend.status("prometheus") == "running")
    fault = ServiceDown(journal, backend, "prometheus", "prometheus", recover_timeout_s=0.3, **kwargs)  # type: ignore[arg-type]
    return backend, journal, fault


def test_stop_then_start_and_wait_until_it_answers() -> None:
    backend, journal, fault = make()
    with fault:
        assert backend.status("prometheus") == "exited"
    assert backend.calls == [("stop", "prometheus"), ("start", "prometheus")]
    assert fault.leftovers() == []
    inject = journal.last("fault.inject", "ok")
    assert inject is not None and inject["mode"] == "stop" and inject["status"] == "exited" and "stop_ms" in inject
    timing = journal.last("fault.timing", "info")
    assert timing is not None and {"start_ms", "revert_ms"} <= set(timing)
    assert timing["ports_before"] == timing["ports_after"] == {"9090/tcp": ["127.0.0.1:32768"]}


def test_a_service_that_still_answers_is_inconclusive_and_started_again() -> None:
    backend, journal, fault = make(answers=lambda: True)
    with pytest.raises(Inconclusive, match="did not take effect"), fault:
        pass
    assert backend.status("prometheus") == "running"
    assert journal.last("fault.inject", "fail") is not None


def test_a_service_that_does_not_come_back_fails_the_revert() -> None:
    backend, journal, fault = make(answers=lambda: False)
    with pytest.raises(FaultRevertFailed, match="did not answer after its container started again"), fault:
        pass
    assert backend.status("prometheus") == "running"
    failed = journal.last("fault.revert", "fail")
    assert failed is not None and "did not answer" in failed["error"]


def test_moved_ports_are_handed_to_after_start_or_reported() -> None:
    refreshed: list[dict[str, list[str]]] = []
    backend, journal, fault = make(move_ports=True)
    fault.after_start = lambda: refreshed.append(backend.ports("prometheus"))
    with fault:
        pass
    assert refreshed == [{"9090/tcp": ["127.0.0.1:32769"]}]
    timing = journal.last("fault.timing", "info")
    assert timing is not None and timing["ports_after"] == {"9090/tcp": ["127.0.0.1:32769"]}

    _, _, unaware = make(move_ports=True)
    with pytest.raises(FaultRevertFailed, match="published ports moved"), unaware:
        pass


# --- for real -------------------------------------------------------------------------------------------

# A web service that exits on SIGTERM (a plain python3 as PID 1 would ignore it and wait for SIGKILL)
SERVE = (
    "import http.server, signal, sys; signal.signal(signal.SIGTERM, lambda *_: sys.exit(0)); "
    "http.server.HTTPServer(('', 8000), http.server.SimpleHTTPRequestHandler).serve_forever()"
)


@pytest.fixture
def service(throwaway: tuple[DockerBackend, Start]) -> tuple[DockerBackend, str]:
    """A throwaway web service of the runner image, published on 127.0.0.1 only."""
    backend, start = throwaway
    name = start("service", ["python3", "-c", SERVE], ports={"8000/tcp": ("127.0.0.1", None)}, working_dir="/tmp")
    return backend, name


@pytest.mark.docker
def test_the_port_refuses_while_stopped_and_answers_after(service: tuple[DockerBackend, str]) -> None:
    backend, name = service
    endpoint: dict[str, str] = {}

    def refresh() -> None:
        """What an environment does after the start: re-read the published port."""
        endpoint["address"] = backend.ports(name)["8000/tcp"][0]

    def answers() -> bool:
        try:
            with urllib.request.urlopen(f"http://{endpoint['address']}/", timeout=1) as response:
                return bool(response.status == 200)
        except OSError:
            return False

    refresh()
    wait_for(answers, "the service to answer", 10, interval=0.05)
    journal = Journal("docker-test")
    with ServiceDown(journal, backend, name, "web", answers, after_start=refresh, stop_timeout_s=5) as fault:
        host, port = endpoint["address"].split(":")
        with pytest.raises(ConnectionRefusedError):
            socket.create_connection((host, int(port)), timeout=1).close()
    assert fault.leftovers() == [] and answers()
    inject, timing = journal.last("fault.inject", "ok"), journal.last("fault.timing", "info")
    assert inject is not None and timing is not None
    print(
        f"service_down: docker stop {inject['stop_ms']} ms, docker start {timing['start_ms']} ms, answering again "
        f"{timing['revert_ms']} ms after the start began; ports {timing['ports_before']} -> {timing['ports_after']}"
    )
