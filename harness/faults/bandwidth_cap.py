"""Bandwidth cap: a container's traffic is shaped to `rate_kbit` with a token bucket (`tc tbf`) in its netns.

The kernel has tbf, ingress, u32, mirred and ifb built in (no netem). tbf shapes what a device
*sends*, so:
- egress (the container uploads / serves): a tbf root qdisc on the container's eth0;
- ingress (the container downloads): eth0's ingress traffic is redirected (u32 match-all + mirred) to
  an ifb device created inside the container's netns, whose root is a tbf; a policer would drop
  instead of queueing, and TCP would settle well below the rate.
Everything lives in the container's network namespace (set up with the host's `tc` and `ip` through
`nsenter`), so nothing is added to the host, and removing the qdiscs and the ifb device restores
the device's default (noqueue).

Proof, from a client's side: `TcpThroughput` measures a TCP transfer between the container and a
peer (python3 at both ends, nothing else needed in the images) before and during the fault.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import Any

from harness.core.journal import Journal
from harness.faults.base import Fault
from harness.faults.undo import Action, UndoLog, command_op
from harness.topology.backend import ContainerBackend

# One-shot sender: listen on argv[1], send zeros to the first client for argv[2] s (or until it leaves).
SEND = """
import socket, sys, time
server = socket.socket()
server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
server.bind(("0.0.0.0", int(sys.argv[1])))
server.listen(1)
server.settimeout(15)
client, _ = server.accept()
end, chunk = time.monotonic() + float(sys.argv[2]), b"\\0" * 65536
try:
    while time.monotonic() < end:
        client.sendall(chunk)
except OSError:
    pass
"""

# Receiver: connect to argv[1]:argv[2], read for argv[3] s; the rate counts only after the first argv[4] s
# (a token bucket lets its burst through at once). Prints kbit/s and the bytes received.
RECEIVE = """
import socket, sys, time
ip, port, secs, skip = sys.argv[1], int(sys.argv[2]), float(sys.argv[3]), float(sys.argv[4])
for _ in range(100):
    try:
        sock = socket.create_connection((ip, port), timeout=2)
        break
    except OSError:
        time.sleep(0.05)
else:
    sys.exit("the sender never listened")
sock.settimeout(5)
started, received, mark = time.monotonic(), 0, None
while (now := time.monotonic()) - started < secs:
    data = sock.recv(65536)
    if not data:
        break
    received += len(data)
    if mark is None and now - started >= skip:
        mark = (now, received)
if mark is None:
    sys.exit("the transfer ended before the measurement window")
print(round((received - mark[1]) * 8 / 1000 / (time.monotonic() - mark[0])), received)
"""


class TcpThroughput:
    """Measures kbit/s of a TCP transfer from `sender` to `receiver` (container names), from the receiver.

    To measure a container's egress, it is the sender; for its ingress, the receiver.
    """

    def __init__(self, backend: ContainerBackend, sender: str, receiver: str, seconds: float = 2.0) -> None:
        self.backend, self.sender, self.receiver, self.seconds = backend, sender, receiver, seconds

    def __call__(self) -> float:
        """Start a one-shot sender, receive for `seconds`, return the rate in kbit/s."""
        port = random.randint(20000, 29999)  # a fresh port per measurement: an old sender may still linger
        self.backend.exec_detached(self.sender, ["python3", "-c", SEND, str(port), str(self.seconds + 2)])
        argv = ["python3", "-c", RECEIVE, self.backend.ip_address(self.sender), str(port), str(self.seconds), "0.3"]
        code, out = self.backend.exec(self.receiver, argv, timeout_s=self.seconds + 15)
        if code != 0:
            raise RuntimeError(f"throughput probe {self.sender} -> {self.receiver} failed ({code}): {out.strip()}")
        return float(out.split()[0])


class BandwidthCap(Fault):
    """Shape `container`'s egress, ingress or both on `dev` to `rate_kbit`; `measure` gives kbit/s as a client sees."""

    name = "bandwidth_cap"

    def __init__(
        self,
        journal: Journal,
        backend: ContainerBackend,
        container: str,
        rate_kbit: int,
        measure: Callable[[], float],
        tag: str,
        direction: str = "egress",
        dev: str = "eth0",
        tolerance: float = 0.3,
        *,
        undo: UndoLog | None = None,
    ) -> None:
        super().__init__(journal, undo)
        if direction not in ("egress", "ingress", "both"):
            raise ValueError(f"direction must be egress, ingress or both, not {direction!r}")
        self.backend, self.container, self.rate_kbit, self.measure = backend, container, rate_kbit, measure
        self.direction, self.dev, self.tolerance, self.tag = direction, dev, tolerance, tag
        # an interface name has at most 15 characters; the tag's tail keeps it unique per fault
        self.ifb = f"ifb{tag.replace('-', '')[-12:]}"
        # burst: at least 20 ms worth and never below 10 KiB (a burst under one MTU frame would block
        # every full-size packet); latency bounds the queue, 100 ms keeps TCP from collapsing
        burst = max(rate_kbit * 1000 // 8 // 50, 10240)
        self.tbf = ["tbf", "rate", f"{rate_kbit}kbit", "burst", str(burst), "latency", "100ms"]
        self.measured: dict[str, Any] = {}
        self._added: list[str] = []  # "root", "ingress", "ifb": what revert must remove

    def describe(self) -> dict[str, Any]:
        """Where, how fast, and what was measured."""
        return {
            "container": self.container,
            "rate_kbit": self.rate_kbit,
            "direction": self.direction,
            "mode": "tc " + " ".join(self.tbf) + (f" (ingress via {self.ifb})" if self.direction != "egress" else ""),
            **self.measured,
        }

    def undo_actions(self) -> list[Action]:
        """The qdiscs and the ifb device stay in the container's netns after the harness dies: delete them,
        newest first (tc exits 2 and ip 1 for what is not there: nothing to undo)."""
        actions = []
        if self.direction in ("ingress", "both"):
            actions += [
                command_op("netns_exec", self.container, ["tc", "qdisc", "del", "dev", self.dev, "ingress"], (0, 2)),
                command_op("netns_exec", self.container, ["ip", "link", "del", self.ifb], (0, 1)),
            ]
        if self.direction in ("egress", "both"):
            actions.append(
                command_op("netns_exec", self.container, ["tc", "qdisc", "del", "dev", self.dev, "root"], (0, 2))
            )
        return actions

    def _run(self, argv: list[str]) -> str:
        code, out = self.backend.netns_exec(self.container, argv)
        if code != 0:
            raise RuntimeError(f"{' '.join(argv)} failed in {self.container}: {out.strip()}")
        return out

    def inject(self) -> None:
        """Measure the unshaped rate, then add the qdiscs (and the ifb for ingress)."""
        self.measured["kbit_before"] = self.measure()
        started = time.monotonic()
        if self.direction in ("egress", "both"):
            self._run(["tc", "qdisc", "add", "dev", self.dev, "root", *self.tbf])
            self._added.append("root")
        if self.direction in ("ingress", "both"):
            self._run(["ip", "link", "add", self.ifb, "type", "ifb"])
            self._added.append("ifb")
            self._run(["ip", "link", "set", self.ifb, "up"])
            self._run(["tc", "qdisc", "add", "dev", self.ifb, "root", *self.tbf])
            self._run(["tc", "qdisc", "add", "dev", self.dev, "handle", "ffff:", "ingress"])
            self._added.append("ingress")
            redirect = ["action", "mirred", "egress", "redirect", "dev", self.ifb]
            match_all = ["u32", "match", "u32", "0", "0"]
            self._run(
                ["tc", "filter", "add", "dev", self.dev, "parent", "ffff:", "protocol", "all", *match_all, *redirect]
            )
        self.measured["inject_ms"] = round((time.monotonic() - started) * 1000, 1)

    def took_effect(self) -> bool:
        """A client measures at most rate × (1 + tolerance), and something (not zero) gets through."""
        started = time.monotonic()
        got = self.measure()
        self.measured["kbit_during"] = got
        self.measured["effect_check_ms"] = round((time.monotonic() - started) * 1000, 1)
        return 0 < got <= self.rate_kbit * (1 + self.tolerance)

    def revert(self) -> None:
        """Delete what was added, newest first (deleting a root or ingress qdisc takes its filters along)."""
        if not self._added:
            return
        started = time.monotonic()
        if self.backend.status(self.container) not in ("running", "paused"):
            self._added.clear()  # the network namespace went away with the container's processes
        undo = {
            "root": ["tc", "qdisc", "del", "dev", self.dev, "root"],
            "ingress": ["tc", "qdisc", "del", "dev", self.dev, "ingress"],
            "ifb": ["ip", "link", "del", self.ifb],
        }
        while self._added:
            self._run(undo[self._added.pop()])
        self.journal_revert_time(started)

    def leftovers(self) -> list[str]:
        """A tbf or ingress qdisc on the device, or the ifb device, still there."""
        if self.backend.status(self.container) not in ("running", "paused"):
            return []
        found = []
        code, out = self.backend.netns_exec(self.container, ["tc", "qdisc", "show", "dev", self.dev])
        if code != 0:
            found.append(f"{self.container}: cannot list qdiscs: {out.strip()}")
        found += [
            f"{self.container}: {line}" for line in out.splitlines() if line.split()[1:2] in (["tbf"], ["ingress"])
        ]
        if self.backend.netns_exec(self.container, ["ip", "link", "show", "dev", self.ifb])[0] == 0:
            found.append(f"{self.container}: device {self.ifb} still exists")
        return found
