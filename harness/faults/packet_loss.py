"""Packet loss: a share of a container's packets (to some peers, or all) is dropped, in its network namespace.

The kernel has no `netem`, so loss comes from iptables' `statistic` match, added from the host with
`nsenter` into the container's netns (as the partition fault does). Two modes:

- `random`: `--mode random --probability p`. The kernel draws from its own PRNG, which cannot be
  seeded: the loss *rate* is p, the exact packets differ on every run. The seed is journalled but
  cannot make this replayable; the measured loss is journalled instead.
- `nth` (deterministic, replayable): p is approximated by m/N (N ≤ `max_window`), and m positions out
  of every N are drawn from the seed. Packet k (counting the packets that reach the rules since they
  were inserted) is dropped iff k mod N is one of those positions. One nth rule can drop only one
  position per window, and a packet dropped by one rule never reaches the next rule's counter, so
  for m > 1 each position's rule only sets a mark bit (MARK does not end the traversal, so every rule
  counts every packet) and one rule after them drops marked packets. Every rule is per peer, so each
  peer's packet stream gets the exact pattern.

Proof, from inside the container: ICMP echoes to the peer (Python raw socket; Docker's default
capabilities include NET_RAW, and every container's kernel answers echoes, so no server is needed)
before (all must answer) and during the fault; the measured loss must match the expected one.
"""

from __future__ import annotations

import math
import random
import time
from collections.abc import Sequence
from fractions import Fraction
from typing import Any

from harness.core.journal import Journal
from harness.faults.base import Fault
from harness.faults.undo import Action, UndoLog, command_op
from harness.topology.backend import ContainerBackend

MARK = "0x8000000/0x8000000"  # one bit of the packet mark; nothing else uses marks inside a container's netns

# ICMP echo from inside the container: argv = ip, count, gap_s, wait_s. Prints "sent received pattern"
# ("." answered, "x" lost). A packet dropped on the way out makes sendto fail with EPERM: it is lost too.
PING = """
import os, select, socket, struct, sys, time
ip, count, gap, wait = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])

def checksum(data):
    total = sum(struct.unpack(f"!{len(data) // 2}H", data))
    total = (total >> 16) + (total & 0xFFFF)
    return ~(total + (total >> 16)) & 0xFFFF

sock = socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP)
ident, answered = os.getpid() & 0xFFFF, set()

def drain(until):
    while (left := until - time.monotonic()) > 0:
        if not select.select([sock], [], [], left)[0]:
            return
        packet = sock.recv(2048)
        header = (packet[0] & 0x0F) * 4
        kind, _, _, pid, seq = struct.unpack("!BBHHH", packet[header:header + 8])
        if kind == 0 and pid == ident:
            answered.add(seq)

for seq in range(count):
    body = struct.pack("!BBHHH", 8, 0, 0, ident, seq) + b"dch-probe"
    body = body[:2] + struct.pack("!H", checksum(body + b"\\0" * (len(body) % 2))) + body[4:]
    try:
        sock.sendto(body, (ip, 0))
    except PermissionError:
        pass
    drain(time.monotonic() + gap)
drain(time.monotonic() + wait)
print(count, len(answered), "".join("." if i in answered else "x" for i in range(count)))
"""


def nth_pattern(probability: float, seed: int, max_window: int = 100) -> tuple[int, list[int]]:
    """(N, positions): drop packets whose index mod N is in positions; len(positions)/N ≈ probability."""
    ratio = Fraction(probability).limit_denominator(max_window)
    if ratio.numerator == 0:
        raise ValueError(f"a loss of {probability} rounds to 0 with a window of at most {max_window} packets")
    window, dropped = ratio.denominator, ratio.numerator
    return window, sorted(random.Random(seed).sample(range(window), dropped))


class PacketLoss(Fault):
    """Drop `probability` of `container`'s packets to/from `peers` (container names; None = every peer)."""

    name = "packet_loss"

    def __init__(
        self,
        journal: Journal,
        backend: ContainerBackend,
        container: str,
        probability: float,
        tag: str,
        peers: Sequence[str] | None = None,
        mode: str = "random",
        seed: int = 0,
        direction: str = "egress",
        probe_ip: str | None = None,
        probes: int = 200,
        max_window: int = 100,
        *,
        undo: UndoLog | None = None,
    ) -> None:
        super().__init__(journal, undo)
        if not 0 < probability < 1:
            raise ValueError("probability must be strictly between 0 and 1")
        if peers is not None and not peers:
            raise ValueError("peers: None for every peer, or at least one container name")
        if mode not in ("random", "nth") or direction not in ("egress", "ingress", "both"):
            raise ValueError(f"mode must be random|nth and direction egress|ingress|both, not {mode}/{direction}")
        self.backend, self.container, self.tag = backend, container, tag
        self.probability, self.mode, self.seed, self.direction = probability, mode, seed, direction
        self.peers = list(peers) if peers is not None else None
        self.probe_ip, self.probes = probe_ip, probes
        self.window, self.positions = nth_pattern(probability, seed, max_window) if mode == "nth" else (0, [])
        self.measured: dict[str, Any] = {}
        self._added: list[list[str]] = []

    @property
    def effective_probability(self) -> float:
        """The per-packet drop probability the rules apply (m/N in nth mode)."""
        return len(self.positions) / self.window if self.mode == "nth" else self.probability

    @property
    def expected_loss(self) -> float:
        """Expected share of lost echo round trips (a request and its reply each cross the rules once)."""
        per_packet = self.effective_probability
        return 1 - (1 - per_packet) ** 2 if self.direction == "both" else per_packet

    def describe(self) -> dict[str, Any]:
        """Where, how much, how (with the nth pattern that makes it replayable), and what was measured."""
        described: dict[str, Any] = {
            "container": self.container,
            "peers": self.peers or "all",
            "probability": self.probability,
            "mode": self.mode,
            "seed": self.seed,
            "direction": self.direction,
        }
        if self.mode == "nth":
            described["nth"] = {"every": self.window, "positions": self.positions}
            described["effective_probability"] = self.effective_probability
        else:
            described["seeded"] = False  # the kernel's PRNG cannot be seeded: rate reproducible, packets not
        return {**described, **self.measured}

    def undo_actions(self) -> list[Action]:
        """The rules stay in the container's netns after the harness dies: delete each, newest first
        (iptables exits 1 for a rule that is not there: nothing to undo)."""
        specs = [spec for match in self._matches() for spec in self._rules(match)]
        return [
            command_op("netns_exec", self.container, ["iptables", "-w", "-D", *spec], ok_codes=(0, 1))
            for spec in reversed(specs)
        ]

    def _matches(self) -> list[list[str]]:
        """(chain + address match) per direction and peer."""
        chains = {"egress": [("OUTPUT", "-d", "-o")], "ingress": [("INPUT", "-s", "-i")]}
        chains["both"] = chains["egress"] + chains["ingress"]
        found = []
        for chain, addr, iface in chains[self.direction]:
            if self.peers is None:
                found.append([chain, "!", iface, "lo"])
            else:
                found += [[chain, addr, self.backend.ip_address(peer)] for peer in self.peers]
        return found

    def _rules(self, match: list[str]) -> list[list[str]]:
        """The rules for one match, in the order to insert them with -I (so the last is topmost)."""
        comment = ["-m", "comment", "--comment", self.tag]
        if self.mode == "random":
            stat = ["-m", "statistic", "--mode", "random", "--probability", f"{self.probability:.6f}"]
            return [[*match, *stat, *comment, "-j", "DROP"]]

        def nth(position: int) -> list[str]:
            return ["-m", "statistic", "--mode", "nth", "--every", str(self.window), "--packet", str(position)]

        if len(self.positions) == 1:
            return [[*match, *nth(self.positions[0]), *comment, "-j", "DROP"]]
        drop = [*match, "-m", "mark", "--mark", MARK, *comment, "-j", "DROP"]
        return [drop, *([*match, *nth(p), *comment, "-j", "MARK", "--set-xmark", MARK] for p in self.positions)]

    def _iptables(self, argv: list[str]) -> str:
        code, out = self.backend.netns_exec(self.container, ["iptables", "-w", *argv])
        if code != 0:
            raise RuntimeError(f"iptables {' '.join(argv)} failed in {self.container}: {out.strip()}")
        return out

    def _ping(self, count: int) -> tuple[int, int, str]:
        argv = ["python3", "-c", PING, self._target(), str(count), "0.002", "0.2"]
        code, out = self.backend.exec(self.container, argv, timeout_s=count * 0.01 + 10)
        if code != 0:
            raise RuntimeError(f"ICMP probe failed in {self.container} ({code}): {out.strip()}")
        sent, received, pattern = out.split()
        return int(sent), int(received), pattern

    def _target(self) -> str:
        if self.probe_ip is None:
            if self.peers:
                self.probe_ip = self.backend.ip_address(self.peers[0])
            else:  # every peer is affected: the default gateway (the engine's bridge) answers echoes
                code, out = self.backend.exec(self.container, ["ip", "-4", "route", "show", "default"])
                words = out.split()
                if code != 0 or "via" not in words:
                    raise RuntimeError(f"no default gateway to probe in {self.container}: {out.strip()}")
                self.probe_ip = words[words.index("via") + 1]
        return self.probe_ip

    def inject(self) -> None:
        """Check the probe peer answers every echo, then insert the tagged rules."""
        sent, received, _ = self._ping(20)
        if received != sent:
            raise RuntimeError(f"{self._target()} answered {received}/{sent} echoes before any loss was injected")
        started = time.monotonic()
        for match in self._matches():
            for spec in self._rules(match):
                self._iptables(["-I", *spec])
                self._added.append(spec)
        self.measured["rules"] = len(self._added)
        self.measured["inject_ms"] = round((time.monotonic() - started) * 1000, 1)

    def took_effect(self) -> bool:
        """The measured echo loss is within 4 standard errors (and at least 2 packets) of the expected loss."""
        started = time.monotonic()
        sent, received, pattern = self._ping(self.probes)
        measured = 1 - received / sent
        expected = self.expected_loss
        slack = max(4 * math.sqrt(expected * (1 - expected) / sent), 2 / sent)
        self.measured.update(
            probe_ip=self._target(),
            echoes_sent=sent,
            echoes_answered=received,
            measured_loss=round(measured, 4),
            expected_loss=round(expected, 4),
            drop_pattern=pattern,
            effect_check_ms=round((time.monotonic() - started) * 1000, 1),
        )
        return received < sent and abs(measured - expected) <= slack

    def revert(self) -> None:
        """Delete exactly the rules added, newest first."""
        if not self._added:
            return
        started = time.monotonic()
        if self.backend.status(self.container) not in ("running", "paused"):
            self._added.clear()  # the network namespace, and its rules, went away with the container's processes
        while self._added:
            self.backend.netns_exec(self.container, ["iptables", "-w", "-D", *self._added.pop()])
        self.journal_revert_time(started)

    def leftovers(self) -> list[str]:
        """Rules still carrying this fault's tag."""
        if self.backend.status(self.container) not in ("running", "paused"):
            return []
        code, out = self.backend.netns_exec(self.container, ["iptables", "-S"])
        if code != 0:
            return [f"{self.container}: cannot list iptables rules: {out.strip()}"]
        return [f"{self.container}: {line}" for line in out.splitlines() if self.tag in line]
