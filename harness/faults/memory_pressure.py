"""Memory pressure: a container's memory limit is lowered and a hog pushes it over, so the kernel OOM-kills.

The limit is the fault window (any job that needs more memory while it is in place is OOM-killed
too); the hog proves it took effect, with the kernel's own count of OOM kills in the container's
cgroup (cgroup v1 `memory.oom_control`, read from the host) and the victim gone from the container.

Engine facts (Docker 20.10, cgroup v1) that drive the revert:
- `docker update` treats 0 as "leave unchanged" and refuses a memory limit below 6 MB, so an
  unlimited container (HostConfig.Memory 0) cannot be set back to 0 / -1. What works is the
  kernel's own "unlimited" value, PAGE_COUNTER_MAX pages (9223372036854771712 with 4 KiB pages),
  for both Memory and MemorySwap: the cgroup then reads exactly as before the fault, while
  `docker inspect` shows that number instead of 0 (functionally the same, also after a restart).
- Memory alone cannot be raised above the current swap limit ("invalid argument" from runc), so
  both are always updated together; the fault restores the kernel values it read before.
"""

from __future__ import annotations

import time
from typing import Any

from harness.core.journal import Journal
from harness.faults.base import Fault
from harness.faults.undo import Action, UndoLog, command_op, resources_op
from harness.topology.backend import ContainerBackend

MIB = 1 << 20

# Allocates argv[1] MiB, touching every page so it is charged at once (a lazily zeroed allocation would not
# be), then holds it. argv[2] is a marker for finding the process; it is not read.
HOG = """
import sys, time
held = []
for _ in range(int(sys.argv[1])):
    chunk = bytearray(1 << 20)
    chunk[::4096] = b"\\x01" * 256
    held.append(chunk)
while True:
    time.sleep(3600)
"""

# Lists (and optionally SIGKILLs, or sets oom_score_adj of) the container's processes whose command line
# contains argv[1]; argv[3:] restricts it to those pids. Prints "pid oom_score_adj" per match, as before the
# action. Run inside the container; it skips itself and its ancestors, whose argv carry the needle too.
PROCS = """
import os, signal, sys
needle, action, only = sys.argv[1], sys.argv[2], set(sys.argv[3:])
skip, pid = set(), os.getpid()
while pid > 1:
    skip.add(pid)
    with open(f"/proc/{pid}/stat") as f:
        pid = int(f.read().rsplit(")", 1)[1].split()[1])
for entry in os.listdir("/proc"):
    if not entry.isdigit() or int(entry) in skip or (only and entry not in only):
        continue
    try:
        with open(f"/proc/{entry}/cmdline", "rb") as f:
            cmdline = f.read().replace(b"\\0", b" ").decode(errors="replace")
        if needle not in cmdline:
            continue
        with open(f"/proc/{entry}/oom_score_adj") as f:
            adj = f.read().strip()
        if action == "kill":
            os.kill(int(entry), signal.SIGKILL)
        elif action.startswith("adj="):
            with open(f"/proc/{entry}/oom_score_adj", "w") as f:
                f.write(action[4:])
        print(entry, adj)
    except (OSError, ValueError):
        continue
"""


def oom_kills(oom_control: str) -> int:
    """The `oom_kill` count of a cgroup v1 memory.oom_control (0 on kernels that do not report it)."""
    for line in oom_control.splitlines():
        key, _, value = line.partition(" ")
        if key == "oom_kill":
            return int(value)
    return 0


class MemoryPressure(Fault):
    """Lower `container`'s memory (and memory+swap) limit to `limit_mb` and start a `hog_mb` hog inside it.

    By default the kernel kills the hog (the biggest process). With `victim` (a substring of a process's
    command line, e.g. "harness.github.agent") those processes get oom_score_adj 1000, so the kernel
    kills them instead: size `hog_mb` so the hog fits, with room to spare, once they are gone (their memory
    is freed asynchronously while the hog keeps allocating; too tight, and the kernel takes the hog as well).
    """

    name = "memory_pressure"

    def __init__(
        self,
        journal: Journal,
        backend: ContainerBackend,
        container: str,
        limit_mb: int,
        hog_mb: int,
        tag: str,
        victim: str | None = None,
        oom_timeout_s: float = 5.0,
        *,
        undo: UndoLog | None = None,
    ) -> None:
        super().__init__(journal, undo)
        if limit_mb < 6:
            raise ValueError("Docker refuses memory limits below 6 MB")
        self.backend, self.container, self.tag, self.victim = backend, container, tag, victim
        self.limit_mb, self.hog_mb, self.oom_timeout_s = limit_mb, hog_mb, oom_timeout_s
        self.hog_marker = f"{tag}-hog"
        self.measured: dict[str, Any] = {}
        self._before: dict[str, int] | None = None  # kernel limits before the fault
        self._restore: dict[str, int] | None = None  # set once the limits may have changed: what revert restores
        self._oom_before = 0
        self._victims: dict[str, str] = {}  # pid -> oom_score_adj before
        self._unmarked = True  # victims' oom_score_adj as before (nothing for revert to give back)
        self._hog_started = 0.0

    def describe(self) -> dict[str, Any]:
        """Limits, hog, victim, and what was measured so far."""
        return {
            "container": self.container,
            "limit_mb": self.limit_mb,
            "hog_mb": self.hog_mb,
            "victim": self.victim or "the hog",
            "mode": "docker update --memory/--memory-swap + hog, OOM kill",
            **self.measured,
        }

    def _cgroup(self, filename: str) -> str:
        return self.backend.cgroup_read(self.container, "memory", filename)

    def _kernel_limits(self) -> dict[str, int]:
        return {
            "Memory": int(self._cgroup("memory.limit_in_bytes")),
            "MemorySwap": int(self._cgroup("memory.memsw.limit_in_bytes")),
        }

    def undo_actions(self) -> list[Action]:
        """Limits, hog and marked victims all outlive the harness: restore the kernel limits read now, kill the
        hog, give the victims their oom_score_adj back (as revert does)."""
        actions = [resources_op(self.container, self._kernel_limits())]
        actions.append(command_op("exec", self.container, ["python3", "-c", PROCS, self.hog_marker, "kill"]))
        if self.victim:
            by_adj: dict[str, list[str]] = {}
            for pid, adj in self._procs(self.victim).items():
                by_adj.setdefault(adj, []).append(pid)
            actions += [
                command_op("exec", self.container, ["python3", "-c", PROCS, self.victim, f"adj={adj}", *pids])
                for adj, pids in by_adj.items()
            ]
        return actions

    def _procs(self, needle: str, action: str = "list", pids: list[str] | None = None) -> dict[str, str]:
        """pid -> oom_score_adj of the container's processes matching `needle` (after applying `action`)."""
        code, out = self.backend.exec(self.container, ["python3", "-c", PROCS, needle, action, *(pids or [])])
        if code != 0:
            raise RuntimeError(f"listing processes in {self.container} failed ({code}): {out.strip()}")
        return dict(line.split() for line in out.splitlines() if line.strip())

    def inject(self) -> None:
        """Read the limits, mark the victims, lower the limits, start the hog."""
        self._before = self._kernel_limits()
        self._oom_before = oom_kills(self._cgroup("memory.oom_control"))
        self.measured["limits_before"] = {**self.backend.resources(self.container), "kernel": self._before}
        self.measured["usage_bytes_before"] = int(self._cgroup("memory.usage_in_bytes"))
        if self.victim:
            self._unmarked = False
            self._victims = self._procs(self.victim, "adj=1000")
            if not self._victims:
                raise RuntimeError(f"no process in {self.container} matches the victim {self.victim!r}")
        started = time.monotonic()
        limit = self.limit_mb * MIB
        # swap limit = memory limit: nothing can escape to swap, the kernel must reclaim or kill
        self._restore = self._before
        self.backend.update_resources(self.container, Memory=limit, MemorySwap=limit)
        self.measured["update_ms"] = round((time.monotonic() - started) * 1000, 1)
        self._hog_started = time.monotonic()
        self.backend.exec_detached(self.container, ["python3", "-c", HOG, str(self.hog_mb), self.hog_marker])
        self.measured["inject_ms"] = round((time.monotonic() - started) * 1000, 1)

    def took_effect(self) -> bool:
        """The cgroup's OOM-kill count grew, and the victim (the hog, or the marked processes) is gone."""
        deadline = time.monotonic() + self.oom_timeout_s
        kills = self._oom_before
        while time.monotonic() < deadline:
            kills = oom_kills(self._cgroup("memory.oom_control"))
            if kills > self._oom_before:
                break
            time.sleep(0.05)
        self.measured["oom_kills"] = kills - self._oom_before
        if kills <= self._oom_before:
            return False
        self.measured["oom_ms_after_hog_start"] = round((time.monotonic() - self._hog_started) * 1000, 1)
        if self.victim:
            alive = self._procs(self.victim, "list", list(self._victims))
            self.measured["victims_killed"] = sorted(set(self._victims) - set(alive))
            return not alive
        return not self._procs(self.hog_marker)

    def revert(self) -> None:
        """Restore the limits read before, kill the hog, give surviving victims back their oom_score_adj."""
        if self._restore is None and self._unmarked:
            return
        started = time.monotonic()
        status = self.backend.status(self.container)
        restored = self._restore
        if restored is not None and status != "missing":
            self.backend.update_resources(self.container, **restored)
        updated = time.monotonic()
        if status == "running":  # docker exec refuses a paused container
            if restored is not None:  # the hog starts after the update
                self._procs(self.hog_marker, "kill")
            for pid, adj in self._victims.items():
                self._procs(self.victim or "", f"adj={adj}", [pid])
        self.journal_revert_time(
            started,
            update_ms=round((updated - started) * 1000, 1),
            restored=restored,
            engine_now=self.backend.resources(self.container) if status != "missing" else None,
        )
        self._restore, self._unmarked = None, True

    def leftovers(self) -> list[str]:
        """Limits not back to what the kernel showed before, a hog still running, a victim still marked."""
        if self.backend.status(self.container) not in ("running", "paused"):
            return []  # no cgroup, no processes left to check
        found: list[str] = []
        if self._before and self._kernel_limits() != self._before:
            found.append(f"{self.container}: memory limits {self._kernel_limits()} (were {self._before})")
        if self.backend.status(self.container) == "paused":
            return [*found, f"{self.container} is paused: cannot look for the hog"]
        found += [f"{self.container}: hog pid {pid} still running" for pid in self._procs(self.hog_marker)]
        if self.victim and self._victims:
            alive = self._procs(self.victim, "list", list(self._victims))
            found += [f"{self.container}: pid {pid} oom_score_adj {adj}" for pid, adj in alive.items() if adj == "1000"]
        return found
