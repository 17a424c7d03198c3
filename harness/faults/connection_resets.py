"""Flaky path: every Nth new TCP connection from runners to a peer port is reset (iptables, deterministic)."""

from __future__ import annotations

from typing import Any

from harness.core.journal import Journal
from harness.faults.base import Fault
from harness.faults.undo import Action, UndoLog, command_op
from harness.topology.backend import ContainerBackend


class ConnectionResets(Fault):
    """In each of `containers`, REJECT (tcp-reset) SYNs to `peer`:`port`: one in `every`.

    `mode="nth"` resets exactly every `every`-th SYN (`statistic --mode nth`: reproducible, but a
    workload that opens the same number of connections per deploy meets it at the same position
    every time); `mode="random"` resets each SYN with probability 1/`every` (`--mode random`).
    """

    name = "connection_resets"

    def __init__(
        self,
        journal: Journal,
        backend: ContainerBackend,
        containers: list[str],
        peer: str,
        peer_name: str,
        port: int,
        every: int,
        tag: str,
        mode: str = "nth",
        *,
        undo: UndoLog | None = None,
    ) -> None:
        super().__init__(journal, undo)
        if mode not in ("nth", "random"):
            raise ValueError(f"mode must be 'nth' or 'random', not {mode!r}")
        self.backend, self.containers, self.peer, self.peer_name = backend, containers, peer, peer_name
        self.port, self.every, self.tag, self.mode = port, every, tag, mode
        self._added: list[tuple[str, list[str]]] = []

    def describe(self) -> dict[str, Any]:
        """Which path, which port, how often."""
        return {
            "containers": self.containers,
            "peer": self.peer_name,
            "port": self.port,
            "one_connection_in": self.every,
            "mode": self.mode,
        }

    def undo_actions(self) -> list[Action]:
        """The rules stay in the containers' netns after the harness dies: delete each (exit 1: not there)."""
        spec = self._spec(self.backend.ip_address(self.peer))
        return [
            command_op("netns_exec", container, ["iptables", "-w", "-D", *spec], ok_codes=(0, 1))
            for container in reversed(self.containers)
        ]

    def inject(self) -> None:
        """Add the rule in every container."""
        spec = self._spec(self.backend.ip_address(self.peer))
        for container in self.containers:
            code, out = self.backend.netns_exec(container, ["iptables", "-w", "-I", *spec])
            if code != 0:
                raise RuntimeError(f"iptables -I failed in {container}: {out.strip()}")
            self._added.append((container, spec))

    def _spec(self, ip: str) -> list[str]:
        """The rule (chain and match) that resets SYNs to `ip`:port."""
        return [
            "OUTPUT",
            "-p",
            "tcp",
            "-d",
            ip,
            "--dport",
            str(self.port),
            "--syn",
            "-m",
            "statistic",
            *self._statistic(),
            "-m",
            "comment",
            "--comment",
            self.tag,
            "-j",
            "REJECT",
            "--reject-with",
            "tcp-reset",
        ]

    def _statistic(self) -> list[str]:
        """The `statistic` match's arguments for the mode."""
        if self.mode == "random":
            return ["--mode", "random", "--probability", f"{1 / self.every:.5f}"]
        return ["--mode", "nth", "--every", str(self.every), "--packet", "0"]

    def took_effect(self) -> bool:
        """Every container lists the tagged rule."""
        for container in self.containers:
            code, out = self.backend.netns_exec(container, ["iptables", "-S"])
            if code != 0 or self.tag not in out:
                return False
        return True

    def revert(self) -> None:
        """Delete exactly the rules added."""
        while self._added:
            container, spec = self._added.pop()
            self.backend.netns_exec(container, ["iptables", "-w", "-D", *spec])

    def leftovers(self) -> list[str]:
        """Tagged rules still present."""
        found = []
        for container in self.containers:
            code, out = self.backend.netns_exec(container, ["iptables", "-S"])
            if code != 0:
                found.append(f"{container}: cannot list iptables rules: {out.strip()}")
            found += [f"{container}: {line}" for line in out.splitlines() if self.tag in line]
        return found
