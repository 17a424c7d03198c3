"""Runner killed: the runner host dies mid-job (SIGKILL to every process, as a power loss).

Unlike a freeze, nothing of the runner survives: its job's lease lapses and GitHub fails the
job ("lost communication"); no `rescue`, trap or `always` step of the pipeline runs. Revert
starts the host again (a fresh runner agent registers), as an operator replacing it would; the
scenario's judgement does not wait for that.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.core.journal import Journal
from harness.core.waiting import wait_for
from harness.faults.base import Fault
from harness.faults.undo import Action, UndoLog, start_op
from harness.topology.backend import ContainerBackend


class RunnerKilled(Fault):
    """docker kill a runner's container; revert: start it and wait until `back_online()` holds."""

    name = "runner_killed"

    def __init__(
        self,
        journal: Journal,
        backend: ContainerBackend,
        container: str,
        role: str,
        back_online: Callable[[], bool],
        restart_timeout_s: float = 60.0,
        *,
        undo: UndoLog | None = None,
    ) -> None:
        super().__init__(journal, undo)
        self.backend, self.container, self.role = backend, container, role
        self.back_online, self.restart_timeout_s = back_online, restart_timeout_s

    def describe(self) -> dict[str, Any]:
        """Which runner, and how."""
        return {"runner_role": self.role, "container": self.container, "mode": "SIGKILL"}

    def undo_actions(self) -> list[Action]:
        """A killed container stays down after the harness dies: start it (its runner registers anew)."""
        return [start_op(self.container)]

    def inject(self) -> None:
        """Kill the runner's container."""
        self.backend.kill(self.container)

    def took_effect(self) -> bool:
        """The container is no longer running."""
        return self.backend.status(self.container) in ("exited", "dead")

    def revert(self) -> None:
        """Start the container again and wait for the runner to be back (registered and online)."""
        if self.backend.status(self.container) in ("exited", "dead", "created"):
            self.backend.start(self.container)
        wait_for(self.back_online, f"runner {self.role} back online after its restart", self.restart_timeout_s, 0.25)

    def leftovers(self) -> list[str]:
        """A runner container that is not running is a leftover."""
        status = self.backend.status(self.container)
        return [] if status == "running" else [f"{self.container} is {status}"]
