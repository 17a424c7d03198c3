"""An in-memory ContainerBackend for tests: records calls, holds container states."""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.topology.backend import ContainerInfo


@dataclass
class FakeContainerBackend:
    """Containers and networks kept in dicts; every call is appended to `calls`."""

    containers: dict[str, ContainerInfo] = field(default_factory=dict)
    networks: dict[str, dict[str, str]] = field(default_factory=dict)
    calls: list[tuple[str, str]] = field(default_factory=list)
    fail_pause: bool = False

    def add(self, name: str, labels: dict[str, str], status: str = "running") -> None:
        """Register a container."""
        self.containers[name] = ContainerInfo(name, name, status, labels)

    def _set(self, name: str, status: str) -> None:
        info = self.containers[name]
        self.containers[name] = ContainerInfo(info.id, info.name, status, info.labels)

    def pause(self, name: str) -> None:
        """Mark paused (or pretend it silently did nothing when `fail_pause`)."""
        self.calls.append(("pause", name))
        if not self.fail_pause:
            self._set(name, "paused")

    def unpause(self, name: str) -> None:
        """Mark running."""
        self.calls.append(("unpause", name))
        self._set(name, "running")

    def status(self, name: str) -> str:
        """Status or 'missing'."""
        return self.containers[name].status if name in self.containers else "missing"

    def list_containers(self, labels: dict[str, str]) -> list[ContainerInfo]:
        """Containers with all labels (an empty value matches any)."""
        return [c for c in self.containers.values()
                if all(k in c.labels and (not v or c.labels[k] == v) for k, v in labels.items())]

    def remove_container(self, container_id: str) -> None:
        """Forget a container."""
        self.calls.append(("remove", container_id))
        self.containers.pop(container_id, None)

    def list_networks(self, labels: dict[str, str]) -> list[str]:
        """Networks with all labels."""
        return [n for n, lab in self.networks.items()
                if all(k in lab and (not v or lab[k] == v) for k, v in labels.items())]

    def remove_network(self, network_id: str) -> None:
        """Forget a network."""
        self.calls.append(("remove_network", network_id))
        self.networks.pop(network_id, None)
