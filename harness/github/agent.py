"""Runner agent: `python3 -m harness.github.agent`.

Registers with the simulated GitHub, heartbeats in a thread, long-polls for jobs and runs
them (lease renewed in a thread while a job runs). Configured from the environment:
GITHUB_URL, RUNNER_NAME, RUNNER_LABELS, RUNNER_WORK_DIR, RUNNER_HEARTBEAT_S,
RUNNER_LEASE_RENEW_S, RUNNER_STATE_FILE, RUNNER_KILL_GRACE_S, RUNNER_ACQUIRE_WAIT_S,
RUNNER_ECHO_LOGS.
"""

from __future__ import annotations

import json
import os
import signal
import socket
import sys
import threading
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from harness.github.client import HttpError, RunnerClient, TransportError
from harness.github.jobcontrol import JobControl
from harness.github.jobrunner import JobRunner, RunnerSettings


@dataclass
class AgentConfig:
    """Agent settings (seconds as floats)."""

    github_url: str
    name: str
    labels: list[str] = field(default_factory=lambda: ["self-hosted", "linux"])
    work_dir: str = "/tmp/runner-work"
    heartbeat_s: float = 5.0
    lease_renew_s: float = 60.0
    state_file: str | None = None
    kill_grace_s: float = 2.5
    acquire_wait_s: float = 5.0
    echo_logs: bool = False

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> AgentConfig:
        env = os.environ if env is None else env
        labels = [x.strip() for x in env.get("RUNNER_LABELS", "self-hosted,linux").split(",") if x.strip()]
        return cls(
            github_url=env.get("GITHUB_URL", "http://github:8000"),
            name=env.get("RUNNER_NAME") or socket.gethostname(),
            labels=labels,
            work_dir=env.get("RUNNER_WORK_DIR", "/tmp/runner-work"),
            heartbeat_s=float(env.get("RUNNER_HEARTBEAT_S", "5")),
            lease_renew_s=float(env.get("RUNNER_LEASE_RENEW_S", "60")),
            state_file=env.get("RUNNER_STATE_FILE") or None,
            kill_grace_s=float(env.get("RUNNER_KILL_GRACE_S", "2.5")),
            acquire_wait_s=float(env.get("RUNNER_ACQUIRE_WAIT_S", "5")),
            echo_logs=env.get("RUNNER_ECHO_LOGS", "") in ("1", "true"),
        )


class Agent:
    """One runner. `start()` runs it in threads; `stop()` is a clean exit; `kill()` simulates a crash."""

    def __init__(self, config: AgentConfig, client: RunnerClient | None = None) -> None:
        self.config = config
        self.client = client or RunnerClient(config.github_url)
        self.runner_id: int | None = None
        self.session = ""
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._needs_register = threading.Event()
        self._control: JobControl | None = None
        self._threads: list[threading.Thread] = []
        self.stats: dict[str, Any] = {"last_checkin_ts": None, "current_job": None, "jobs_total": 0, "jobs_failed": 0}

    # ------------------------------------------------------------ lifecycle

    def start(self) -> Agent:
        """Run in background threads (for tests and embedding)."""
        thread = threading.Thread(target=self.run, name=f"agent-{self.config.name}", daemon=True)
        thread.start()
        self._threads.append(thread)
        return self

    def run(self) -> None:
        """Register, heartbeat, poll and run jobs until stopped."""
        beat = threading.Thread(target=self._heartbeat_loop, name="heartbeat", daemon=True)
        beat.start()
        self._threads.append(beat)
        while not self._stop.is_set():
            if self.runner_id is None or self._needs_register.is_set():
                if not self._register():
                    self._stop.wait(1.0)
                continue
            payload = self._acquire()
            if payload is not None and not self._stop.is_set():
                self._run_job(payload)

    def request_stop(self) -> None:
        """Ask the loops to end without waiting for them (see stop())."""
        self._stop.set()

    def stop(self, timeout_s: float = 10.0) -> None:
        """Stop polling; a running job is abandoned (its step is killed). Does not deregister."""
        self._stop.set()
        with self._lock:
            if self._control is not None:
                self._control.lose()
        self._join(timeout_s)

    def kill(self, timeout_s: float = 10.0) -> None:
        """Simulate a crash: no further request reaches the server, the running step dies."""
        self.client.disable()
        self.stop(timeout_s)

    def _join(self, timeout_s: float) -> None:
        deadline = time.monotonic() + timeout_s
        for thread in self._threads:
            if thread is not threading.current_thread():
                thread.join(timeout=max(0.0, deadline - time.monotonic()))

    # ------------------------------------------------------------ protocol

    def _checkin(self) -> None:
        self.stats["last_checkin_ts"] = time.time()
        self._write_state()

    def _register(self) -> bool:
        try:
            reply = self.client.register(self.config.name, self.config.labels)
        except (HttpError, TransportError) as exc:
            self._say(f"register failed: {exc}")
            return False
        with self._lock:
            self.runner_id, self.session = int(reply["runner_id"]), str(reply["session"])
            self._needs_register.clear()
        self._say(f"registered as runner {self.runner_id} with labels {reply.get('labels')}")
        self._checkin()
        return True

    def _heartbeat_loop(self) -> None:
        while not self._stop.wait(self.config.heartbeat_s):
            with self._lock:
                runner_id, session, control = self.runner_id, self.session, self._control
            if runner_id is None:
                continue
            try:
                reply = self.client.heartbeat(runner_id, session)
            except HttpError as exc:
                if exc.status == 404:
                    self._needs_register.set()
                continue
            except TransportError:
                continue
            self._checkin()
            if control is not None and reply.get("cancel_requested"):
                control.request_cancel()

    def _acquire(self) -> dict[str, Any] | None:
        assert self.runner_id is not None
        try:
            payload = self.client.acquire(self.runner_id, self.session, self.config.acquire_wait_s)
        except HttpError as exc:
            if exc.status == 404:
                self._needs_register.set()
            else:
                self._stop.wait(1.0)
            return None
        except TransportError:
            self._stop.wait(1.0)
            return None
        self._checkin()
        return payload

    def _run_job(self, payload: dict[str, Any]) -> None:
        control = JobControl()
        with self._lock:
            self._control = control
        self.stats["current_job"] = payload.get("name") or payload.get("job_key")
        self._write_state()
        self._say(f"running job {payload.get('job_key')} ({payload.get('job_id')}) of run {payload.get('run_id')}")
        settings = RunnerSettings(
            name=self.config.name,
            work_dir=self.config.work_dir,
            lease_renew_s=self.config.lease_renew_s,
            kill_grace_s=self.config.kill_grace_s,
            echo=self._say if self.config.echo_logs else None,
        )
        try:
            conclusion = JobRunner(payload, self.client, settings, control).run()
        finally:
            with self._lock:
                self._control = None
        self.stats["jobs_total"] += 1
        if conclusion != "success":
            self.stats["jobs_failed"] += 1
        self.stats["current_job"] = None
        self._write_state()
        self._say(f"job {payload.get('job_id')} finished: {conclusion}")

    # ------------------------------------------------------------ local outputs

    def _write_state(self) -> None:
        path = self.config.state_file
        if not path:
            return
        tmp = f"{path}.tmp{os.getpid()}.{threading.get_ident()}"
        try:
            os.makedirs(os.path.dirname(path) or ".", exist_ok=True)
            with open(tmp, "w", encoding="utf-8") as handle:
                json.dump({**self.stats, "runner_name": self.config.name}, handle)
            os.replace(tmp, path)
        except OSError as exc:
            self._say(f"cannot write state file {path}: {exc}")

    def _say(self, message: str) -> None:
        print(f"[agent {self.config.name}] {message}", file=sys.stderr, flush=True)


def main() -> int:
    agent = Agent(AgentConfig.from_env())

    def on_signal(signum: int, _frame: object) -> None:
        threading.Thread(target=agent.stop, daemon=True).start()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    agent.run()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
