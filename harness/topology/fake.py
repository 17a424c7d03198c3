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
    ips: dict[str, str] = field(default_factory=dict)
    rules: dict[str, list[str]] = field(default_factory=dict)  # container -> iptables rules (-A form)
    reachable: dict[tuple[str, str], bool] = field(default_factory=dict)  # (container, ip) -> reachable
    ignore_iptables: bool = False  # simulate a kernel that silently ignores the rules

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

    def kill(self, name: str) -> None:
        """Mark exited."""
        self.calls.append(("kill", name))
        self._set(name, "exited")

    def start(self, name: str) -> None:
        """Mark running."""
        self.calls.append(("start", name))
        self._set(name, "running")

    def status(self, name: str) -> str:
        """Status or 'missing'."""
        return self.containers[name].status if name in self.containers else "missing"

    def list_containers(self, labels: dict[str, str]) -> list[ContainerInfo]:
        """Containers with all labels (an empty value matches any)."""
        return [
            c
            for c in self.containers.values()
            if all(k in c.labels and (not v or c.labels[k] == v) for k, v in labels.items())
        ]

    def remove_container(self, container_id: str) -> None:
        """Forget a container."""
        self.calls.append(("remove", container_id))
        self.containers.pop(container_id, None)

    def list_networks(self, labels: dict[str, str]) -> list[str]:
        """Networks with all labels."""
        return [
            n for n, lab in self.networks.items() if all(k in lab and (not v or lab[k] == v) for k, v in labels.items())
        ]

    def remove_network(self, network_id: str) -> None:
        """Forget a network."""
        self.calls.append(("remove_network", network_id))
        self.networks.pop(network_id, None)

    def ip_address(self, name: str) -> str:
        """The IP registered for `name`."""
        return self.ips[name]

    def exec(self, name: str, argv: list[str], timeout_s: float = 10.0) -> tuple[int, str]:
        """Probes from `name` fail while a DROP rule is in place there (unless iptables is 'ignored')."""
        self.calls.append(("exec", name))
        blocked = any("-j DROP" in r for r in self.rules.get(name, [])) and not self.ignore_iptables
        return (7, "connection timed out") if blocked else (0, "ok")

    def netns_exec(self, name: str, argv: list[str]) -> tuple[int, str]:
        """A tiny iptables: -I/-A add, -D delete, -S list."""
        self.calls.append(("netns_exec", name))
        rules = self.rules.setdefault(name, [])
        args = [a for a in argv if a != "-w"]
        if args[:1] != ["iptables"]:
            return 127, "only iptables is faked"
        op, rest = args[1], " ".join(args[2:])
        if op in ("-I", "-A"):
            rules.append(f"-A {rest}")
            return 0, ""
        if op == "-D":
            if f"-A {rest}" in rules:
                rules.remove(f"-A {rest}")
                return 0, ""
            return 1, "Bad rule (does a matching rule exist in that chain?)"
        if op == "-S":
            return 0, "\n".join(["-P INPUT ACCEPT", "-P OUTPUT ACCEPT", *rules])
        return 2, f"unsupported {op}"
