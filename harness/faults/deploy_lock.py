"""A stuck deploy holds the production host's deploy lock (flock), as a hung earlier deploy would."""

from __future__ import annotations

from typing import Any

from harness.core.journal import Journal
from harness.faults.base import Fault
from harness.topology.backend import ContainerBackend

HOLD_SECONDS = "3599.5"  # a distinctive argument, so revert kills exactly this holder
# a regex that matches the holder but not the command line of the pgrep/pkill (or its `timeout`) itself
HOLDER_PATTERN = r"sleep 359[9]\.5"


class DeployLockHeld(Fault):
    """Run `flock <lock> sleep` as the deploy user on the production host until reverted."""

    name = "deploy_lock_held"

    def __init__(
        self, journal: Journal, backend: ContainerBackend, container: str, lock: str, user: str = "deploy"
    ) -> None:
        super().__init__(journal)
        self.backend, self.container, self.lock, self.user = backend, container, lock, user

    def describe(self) -> dict[str, Any]:
        """Which lock, on which host."""
        return {"container": self.container, "lock": self.lock}

    def inject(self) -> None:
        """Start the holder in the background."""
        code, out = self.backend.exec(
            self.container,
            [
                "sh",
                "-c",
                f"su -s /bin/sh {self.user} -c 'nohup flock {self.lock} sleep {HOLD_SECONDS} >/dev/null 2>&1 &'",
            ],
        )
        if code != 0:
            raise RuntimeError(f"cannot start the lock holder: {out.strip()}")

    def took_effect(self) -> bool:
        """The lock cannot be taken without waiting."""
        for _ in range(20):  # the holder takes the lock asynchronously
            code, _ = self.backend.exec(self.container, ["flock", "-n", self.lock, "true"])
            if code != 0:
                return True
            self.backend.exec(self.container, ["sleep", "0.1"])
        return False

    def revert(self) -> None:
        """Kill the holder (the lock is released with it) and wait until it is gone."""
        self.backend.exec(self.container, ["pkill", "-KILL", "-f", HOLDER_PATTERN])
        for _ in range(30):
            if self.backend.exec(self.container, ["pgrep", "-f", HOLDER_PATTERN])[0] != 0:
                return
            self.backend.exec(self.container, ["sleep", "0.1"])

    def leftovers(self) -> list[str]:
        """A holder still running."""
        code, _ = self.backend.exec(self.container, ["pgrep", "-f", HOLDER_PATTERN])
        return [f"{self.container}: a process still holds {self.lock}"] if code == 0 else []
