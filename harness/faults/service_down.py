"""A service is down: its container is stopped (docker stop), then started again (e.g. "Prometheus down").

Unlike `ServicePaused` (frozen: connections hang), a stopped service's published port refuses
connections at once. Engine facts (Docker 20.10) that shape what a client sees:
- From the host, the published port refuses (the engine's proxy for it is gone).
- From other containers, the service's name no longer resolves (the engine's DNS drops stopped
  containers) and its old address times out: there is no "connection refused" inside the network.
- A port published without a fixed host port ("127.0.0.1::9090", as the topology does) gets a NEW
  host port when the container starts again. Clients holding the old URL must re-read it:
  `after_start` is called once the container runs again (before waiting for `answers`) so the
  environment can refresh its endpoints; without it, a changed mapping is reported as a leftover.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from harness.core.journal import Journal
from harness.core.waiting import WaitTimeout, wait_for
from harness.faults.base import Fault
from harness.faults.undo import Action, UndoLog, start_op
from harness.topology.backend import ContainerBackend


class ServiceDown(Fault):
    """Stop a service's container; it took effect when the service refuses; revert starts it and waits."""

    name = "service_down"

    def __init__(
        self,
        journal: Journal,
        backend: ContainerBackend,
        container: str,
        service: str,
        answers: Callable[[], bool],
        after_start: Callable[[], None] | None = None,
        stop_timeout_s: float = 10.0,
        recover_timeout_s: float = 30.0,
        *,
        undo: UndoLog | None = None,
    ) -> None:
        super().__init__(journal, undo)
        self.backend, self.container, self.service = backend, container, service
        self.answers, self.after_start = answers, after_start
        self.stop_timeout_s, self.recover_timeout_s = stop_timeout_s, recover_timeout_s
        self.measured: dict[str, Any] = {}
        self._stopped = False
        self._ports_before: dict[str, list[str]] = {}
        self._ports_after: dict[str, list[str]] | None = None

    def describe(self) -> dict[str, Any]:
        """Which service, how, and the measured stop time."""
        return {"service": self.service, "container": self.container, "mode": "stop", **self.measured}

    def undo_actions(self) -> list[Action]:
        """A stopped container stays down after the harness dies: start it (its host ports may move)."""
        return [start_op(self.container)]

    def inject(self) -> None:
        """docker stop (SIGTERM; SIGKILL after `stop_timeout_s`)."""
        self._ports_before = self.backend.ports(self.container)
        started = time.monotonic()
        self._stopped = True
        self.backend.stop(self.container, self.stop_timeout_s)
        self.measured["stop_ms"] = self.measured["inject_ms"] = round((time.monotonic() - started) * 1000, 1)

    def took_effect(self) -> bool:
        """Exited, and the service does not answer."""
        status = self.backend.status(self.container)
        self.measured["status"] = status
        return status == "exited" and not self.answers()

    def revert(self) -> None:
        """Start the container again, let the environment re-read its ports, wait until the service answers."""
        if not self._stopped:
            return
        started = time.monotonic()
        if self.backend.status(self.container) != "running":
            self.backend.start(self.container)
        start_ms = round((time.monotonic() - started) * 1000, 1)
        self._ports_after = self.backend.ports(self.container)
        if self.after_start is not None:
            self.after_start()
        try:
            wait_for(self.answers, f"{self.service} to answer again", self.recover_timeout_s, interval=0.05)
        except WaitTimeout as exc:
            raise RuntimeError(f"{self.service} did not answer after its container started again: {exc}") from exc
        self._stopped = False
        self.journal_revert_time(
            started,
            start_ms=start_ms,
            ports_before=self._ports_before,
            ports_after=self._ports_after,
        )

    def leftovers(self) -> list[str]:
        """Not running, or published on other host ports with no one told."""
        status = self.backend.status(self.container)
        if status != "running":
            return [f"{self.container} is {status}"]
        if self.after_start is None and self._ports_after is not None and self._ports_after != self._ports_before:
            return [f"{self.container}: published ports moved {self._ports_before} -> {self._ports_after}"]
        return []
