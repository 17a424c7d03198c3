"""Network partition between a container and its peers: iptables DROP in the container's netns.

The rules carry a comment naming the run, so leftovers are found by listing the chain,
and they are deleted by the exact spec they were added with.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.core.journal import Journal
from harness.faults.base import Fault
from harness.faults.undo import Action, UndoLog, command_op
from harness.topology.backend import ContainerBackend


class NetworkPartition(Fault):
    """Drop all traffic between `container` and `peer` (one container, or several: e.g. every production host)."""

    name = "network_partition"

    def __init__(
        self,
        journal: Journal,
        backend: ContainerBackend,
        container: str,
        peer: str | Sequence[str],
        peer_name: str,
        probe: list[str],
        tag: str,
        *,
        undo: UndoLog | None = None,
    ) -> None:
        super().__init__(journal, undo)
        self.backend, self.container, self.peer_name = backend, container, peer_name
        self.peers = [peer] if isinstance(peer, str) else list(peer)
        self.probe, self.tag = probe, tag
        self._specs: list[list[str]] = []

    def describe(self) -> dict[str, Any]:
        """Which path is cut."""
        return {"container": self.container, "peer": self.peer_name, "mode": "iptables DROP both ways"}

    def _rule_specs(self, ip: str) -> list[list[str]]:
        comment = ["-m", "comment", "--comment", self.tag]
        return [["OUTPUT", "-d", ip, *comment, "-j", "DROP"], ["INPUT", "-s", ip, *comment, "-j", "DROP"]]

    def undo_actions(self) -> list[Action]:
        """The rules stay in the container's netns after the harness dies: delete each, newest first
        (iptables exits 1 for a rule that is not there: nothing to undo)."""
        specs = [spec for peer in self.peers for spec in self._rule_specs(self.backend.ip_address(peer))]
        return [
            command_op("netns_exec", self.container, ["iptables", "-w", "-D", *spec], ok_codes=(0, 1))
            for spec in reversed(specs)
        ]

    def inject(self) -> None:
        """Insert the DROP rules for every peer at the top of OUTPUT and INPUT."""
        for peer in self.peers:
            for spec in self._rule_specs(self.backend.ip_address(peer)):
                code, out = self.backend.netns_exec(self.container, ["iptables", "-w", "-I", *spec])
                if code != 0:
                    raise RuntimeError(f"iptables -I {' '.join(spec)} failed in {self.container}: {out.strip()}")
                self._specs.append(spec)

    def took_effect(self) -> bool:
        """The probe (e.g. curl to the peer) fails from inside the container."""
        code, _ = self.backend.exec(self.container, self.probe, timeout_s=3)
        return code != 0

    def revert(self) -> None:
        """Delete exactly the rules this fault added."""
        while self._specs:
            spec = self._specs.pop()
            self.backend.netns_exec(self.container, ["iptables", "-w", "-D", *spec])

    def leftovers(self) -> list[str]:
        """Any rule still carrying this fault's tag."""
        code, out = self.backend.netns_exec(self.container, ["iptables", "-S"])
        if code != 0:
            return [f"cannot list iptables rules in {self.container}: {out.strip()}"]
        return [line for line in out.splitlines() if self.tag in line]
