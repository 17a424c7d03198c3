"""Bad release: a given version is broken in production (served, but fails its health check)."""

from __future__ import annotations

from typing import Any

from harness.core.journal import Journal
from harness.faults.base import Fault
from harness.topology.backend import ContainerBackend

MARKER_DIR = "/opt/app-faults/broken-releases"


class BrokenRelease(Fault):
    """Mark `version` broken on the production host: once installed, /health answers 503."""

    name = "broken_release"

    def __init__(self, journal: Journal, backend: ContainerBackend, container: str, version: str) -> None:
        super().__init__(journal)
        self.backend, self.container, self.version = backend, container, version
        self.marker = f"{MARKER_DIR}/{version}"

    def describe(self) -> dict[str, Any]:
        """Which release, on which host."""
        return {"version": self.version, "container": self.container}

    def _exists(self) -> bool:
        code, _ = self.backend.exec(self.container, ["test", "-e", self.marker])
        return code == 0

    def inject(self) -> None:
        """Create the marker."""
        code, out = self.backend.exec(self.container, ["touch", self.marker])
        if code != 0:
            raise RuntimeError(f"cannot mark release {self.version} broken: {out.strip()}")

    def took_effect(self) -> bool:
        """The marker exists."""
        return self._exists()

    def revert(self) -> None:
        """Remove the marker."""
        self.backend.exec(self.container, ["rm", "-f", self.marker])

    def leftovers(self) -> list[str]:
        """The marker still present."""
        return [f"{self.container}:{self.marker}"] if self._exists() else []
