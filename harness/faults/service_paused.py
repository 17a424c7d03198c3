"""A service becomes unreachable: its container is frozen (TCP connects hang, nothing answers)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.core.journal import Journal
from harness.core.waiting import WaitTimeout, wait_for
from harness.faults.base import Fault
from harness.faults.undo import Action, UndoLog, unpause_op
from harness.topology.backend import ContainerBackend


class ServicePaused(Fault):
    """Freeze a service's container; it took effect when the service stops answering."""

    name = "service_paused"

    def __init__(
        self,
        journal: Journal,
        backend: ContainerBackend,
        container: str,
        service: str,
        answers: Callable[[], bool],
        recover_timeout_s: float = 30.0,
        *,
        undo: UndoLog | None = None,
    ) -> None:
        super().__init__(journal, undo)
        self.backend, self.container, self.service = backend, container, service
        self.answers, self.recover_timeout_s = answers, recover_timeout_s

    def describe(self) -> dict[str, Any]:
        """Which service, and how."""
        return {"service": self.service, "container": self.container, "mode": "pause"}

    def undo_actions(self) -> list[Action]:
        """A frozen container stays frozen after the harness dies: unpause it."""
        return [unpause_op(self.container)]

    def inject(self) -> None:
        """Pause the service's container."""
        self.backend.pause(self.container)

    def took_effect(self) -> bool:
        """Paused, and the service no longer answers."""
        return self.backend.status(self.container) == "paused" and not self.answers()

    def revert(self) -> None:
        """Unpause, then wait until the service answers again."""
        if self.backend.status(self.container) == "paused":
            self.backend.unpause(self.container)
        try:
            wait_for(self.answers, f"{self.service} to answer again", self.recover_timeout_s, interval=0.1)
        except WaitTimeout as exc:
            raise RuntimeError(f"{self.service} did not recover after unpause: {exc}") from exc

    def leftovers(self) -> list[str]:
        """A container still paused is a leftover."""
        status = self.backend.status(self.container)
        return [f"{self.container} is {status}"] if status == "paused" else []
