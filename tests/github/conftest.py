"""Fixtures: a simulated GitHub on 127.0.0.1 with sub-second timers, runner agents in threads."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import httpx
import pytest

from harness.github.agent import Agent, AgentConfig
from harness.github.config import SimConfig
from harness.github.server import SimServer
from harness.github.tarballs import make_tarball

FAST = {"heartbeat_timeout_s": 0.6, "lease_timeout_s": 1.0, "queue_timeout_s": 0.8, "monitor_interval_s": 0.05}


class SimClient:
    """Test-side client of the simulated GitHub (harness + REST endpoints)."""

    def __init__(self, url: str, owner: str = "acme", repo: str = "app") -> None:
        self.url = url
        self.owner, self.repo = owner, repo
        self.http = httpx.Client(base_url=url, timeout=15)

    @property
    def prefix(self) -> str:
        return f"/repos/{self.owner}/{self.repo}"

    def upload(self, files: dict[str, str]) -> httpx.Response:
        return self.http.put(
            f"/_sim/repos/{self.owner}/{self.repo}",
            content=make_tarball(files),
            headers={"Content-Type": "application/gzip"},
        )

    def upload_workflow(self, text: str, name: str = "ci.yml", extra: dict[str, str] | None = None) -> None:
        response = self.upload({f".github/workflows/{name}": text, "README.md": "hello\n", **(extra or {})})
        assert response.status_code == 200, response.text

    def secret(self, name: str, value: str) -> None:
        response = self.http.put(f"/_sim/repos/{self.owner}/{self.repo}/secrets/{name}", json={"value": value})
        assert response.status_code == 204, response.text

    def dispatch_raw(self, inputs: dict[str, Any] | None = None, workflow: str = "ci.yml") -> httpx.Response:
        return self.http.post(
            f"{self.prefix}/actions/workflows/{workflow}/dispatches", json={"ref": "main", "inputs": inputs or {}}
        )

    def dispatch(self, inputs: dict[str, Any] | None = None, workflow: str = "ci.yml") -> int:
        response = self.dispatch_raw(inputs, workflow)
        assert response.status_code == 200, response.text
        return int(response.json()["workflow_run_id"])

    def run(self, run_id: int) -> dict[str, Any]:
        return self.http.get(f"{self.prefix}/actions/runs/{run_id}").json()

    def jobs(self, run_id: int) -> dict[str, dict[str, Any]]:
        jobs = self.http.get(f"{self.prefix}/actions/runs/{run_id}/jobs").json()["jobs"]
        return {job["job_key"]: job for job in jobs}

    def log(self, job_id: int) -> str:
        return self.http.get(f"{self.prefix}/actions/jobs/{job_id}/logs").text

    def events(self, after: int = 0) -> list[dict[str, Any]]:
        return self.http.get("/_sim/events", params={"after": after}).json()["events"]

    def config(self) -> dict[str, float]:
        return self.http.get("/_sim/config").json()

    @staticmethod
    def wait_for(probe: Callable[[], Any], timeout_s: float, what: str) -> Any:
        return wait_for(probe, timeout_s, what)

    def wait_run(self, run_id: int, timeout_s: float = 15.0) -> dict[str, Any]:
        return wait_for(
            lambda: (r := self.run(run_id))["status"] == "completed" and r, timeout_s, f"run {run_id} to complete"
        )

    def wait_event(
        self, predicate: Callable[[dict[str, Any]], bool], timeout_s: float = 10.0, what: str = "event"
    ) -> dict[str, Any]:
        def find() -> dict[str, Any] | None:
            return next((e for e in self.events() if predicate(e)), None)

        return wait_for(find, timeout_s, what)


def wait_for(probe: Callable[[], Any], timeout_s: float, what: str, interval_s: float = 0.03) -> Any:
    """Poll `probe` until it returns something truthy; fail with `what` after the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        value = probe()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout_s}s waiting for {what}")
        time.sleep(interval_s)


@pytest.fixture
def sim_server() -> Iterator[SimServer]:
    server = SimServer("127.0.0.1", 0, SimConfig(**FAST)).start()
    yield server
    server.stop()


@pytest.fixture
def sim(sim_server: SimServer) -> Iterator[SimClient]:
    client = SimClient(sim_server.url)
    yield client
    client.http.close()


@pytest.fixture
def start_agent(sim_server: SimServer, tmp_path: Any) -> Iterator[Callable[..., Agent]]:
    agents: list[Agent] = []

    def start(name: str, labels: list[str], **overrides: Any) -> Agent:
        settings: dict[str, Any] = {
            "heartbeat_s": 0.1,
            "lease_renew_s": 0.15,
            "acquire_wait_s": 0.25,
            "kill_grace_s": 0.5,
            "work_dir": str(tmp_path / name),
        }
        settings.update(overrides)
        agent = Agent(AgentConfig(github_url=sim_server.url, name=name, labels=labels, **settings)).start()
        agents.append(agent)
        wait_for(lambda: agent.runner_id is not None, 5, f"agent {name} to register")
        return agent

    yield start
    for agent in agents:
        agent.request_stop()
    for agent in agents:
        agent.stop(timeout_s=3)
