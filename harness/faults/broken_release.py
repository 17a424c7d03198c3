"""Bad release: a given version is broken in production (served, but fails its health check).

The marker is host-side (docs/production.md): `/opt/app-faults/broken-releases/<version>` on
every web host. A backend serving a marked release answers /health with 503; every backend
lists the releases it treats as broken at `GET /_faults`, which is how the fault is proven from
a client's side even before the release is installed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

from harness.core.journal import Journal
from harness.faults.base import Fault
from harness.faults.undo import Action, UndoLog, command_op
from harness.topology.backend import ContainerBackend

MARKER_DIR = "/opt/app-faults/broken-releases"

# web host -> releases its backend treats as broken (None: it did not answer)
BrokenReport = Callable[[], Mapping[str, Sequence[str] | None]]


class BrokenRelease(Fault):
    """Mark `version` broken on every web host in `containers`: once installed, /health answers 503."""

    name = "broken_release"

    def __init__(
        self,
        journal: Journal,
        backend: ContainerBackend,
        containers: Sequence[str],
        version: str,
        reported: BrokenReport | None = None,
        *,
        undo: UndoLog | None = None,
    ) -> None:
        """`reported`: the backends' own report of broken releases (the client-side proof), if available."""
        super().__init__(journal, undo)
        self.backend, self.containers, self.version = backend, list(containers), version
        self.reported = reported
        self.marker = f"{MARKER_DIR}/{version}"

    def describe(self) -> dict[str, Any]:
        """Which release, on which hosts."""
        return {"version": self.version, "containers": self.containers}

    def undo_actions(self) -> list[Action]:
        """The marker files stay on the hosts after the harness dies: remove them."""
        return [command_op("exec", c, ["rm", "-f", self.marker]) for c in self.containers]

    def _marked(self, container: str) -> bool:
        code, _ = self.backend.exec(container, ["test", "-e", self.marker])
        return code == 0

    def inject(self) -> None:
        """Create the marker on every host."""
        for container in self.containers:
            code, out = self.backend.exec(container, ["touch", self.marker])
            if code != 0:
                raise RuntimeError(f"cannot mark release {self.version} broken on {container}: {out.strip()}")

    def took_effect(self) -> bool:
        """The marker exists on every host, and every backend reports the release broken."""
        if not all(self._marked(c) for c in self.containers):
            return False
        if self.reported is None:
            return True
        report = self.reported()
        return len(report) == len(self.containers) and all(
            seen is not None and self.version in seen for seen in report.values()
        )

    def revert(self) -> None:
        """Remove the marker from every host."""
        for container in self.containers:
            self.backend.exec(container, ["rm", "-f", self.marker])

    def leftovers(self) -> list[str]:
        """Markers still present."""
        return [f"{c}:{self.marker}" for c in self.containers if self._marked(c)]
