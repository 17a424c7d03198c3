"""Runner offline: the runner host stops answering (its container is frozen)."""

from __future__ import annotations

from typing import Any

from harness.core.journal import Journal
from harness.faults.base import Fault
from harness.faults.undo import Action, UndoLog, unpause_op
from harness.topology.backend import ContainerBackend


class RunnerOffline(Fault):
    """Freeze a runner host: agent, heartbeats and exporter all stop (docker pause)."""

    name = "runner_offline"

    def __init__(
        self, journal: Journal, backend: ContainerBackend, container: str, role: str, *, undo: UndoLog | None = None
    ) -> None:
        super().__init__(journal, undo)
        self.backend, self.container, self.role = backend, container, role

    def describe(self) -> dict[str, Any]:
        """Which runner, and how."""
        return {"runner_role": self.role, "container": self.container, "mode": "pause"}

    def undo_actions(self) -> list[Action]:
        """A frozen container stays frozen after the harness dies: unpause it."""
        return [unpause_op(self.container)]

    def inject(self) -> None:
        """Pause the runner's container."""
        self.backend.pause(self.container)

    def took_effect(self) -> bool:
        """The container reports paused."""
        return self.backend.status(self.container) == "paused"

    def revert(self) -> None:
        """Unpause it if still paused."""
        if self.backend.status(self.container) == "paused":
            self.backend.unpause(self.container)

    def leftovers(self) -> list[str]:
        """A container still paused is a leftover."""
        status = self.backend.status(self.container)
        return [f"{self.container} is {status}"] if status == "paused" else []
