"""CPU starvation: a container gets only `cpus` CPUs' worth of time (CFS bandwidth quota).

Engine facts (Docker 20.10, cgroup v1) that drive the choice of knob:
- `docker update --cpus` sets NanoCpus, and once NanoCpus is set the engine never lets it go back
  to 0 ("0 = unchanged") and refuses CpuQuota/CpuPeriod beside it. On a container started without a
  CPU limit the fault therefore sets CpuQuota (against the cgroup's current period) and reverts it
  with CpuQuota -1, which the engine accepts and runc writes as -1: the kernel's "no limit", so
  `cpu.cfs_quota_us` reads exactly as before. Only a container already started with `--cpus`
  is changed through NanoCpus (and restored to its old value).
- Proof is the kernel's `cpu.stat` nr_throttled growing while busy workers run inside, and those
  workers' CPU-seconds per wall-second (what a CPU-bound job inside would get) dropping to ≈ `cpus`.
"""

from __future__ import annotations

import math
import time
from typing import Any

from harness.core.journal import Journal
from harness.faults.base import Fault
from harness.faults.undo import Action, UndoLog, resources_op
from harness.topology.backend import ContainerBackend

# argv[1] busy worker processes spin for argv[2] s of wall time each; prints the CPU-seconds they got per
# wall-second (the CPUs' worth the container's jobs get), the wall time and the CPU time.
BUSY = """
import os, sys, time
workers, secs = int(sys.argv[1]), float(sys.argv[2])
started = time.monotonic()
children = []
for _ in range(workers):
    pid = os.fork()
    if pid == 0:
        end = time.monotonic() + secs
        while time.monotonic() < end:
            pass
        os._exit(0)
    children.append(pid)
cpu = 0.0
for pid in children:
    _, _, usage = os.wait4(pid, 0)
    cpu += usage.ru_utime + usage.ru_stime
print(round(cpu / secs, 3), round(time.monotonic() - started, 3), round(cpu, 3))
"""


def throttled(cpu_stat: str) -> int:
    """nr_throttled of a cgroup v1 cpu.stat."""
    for line in cpu_stat.splitlines():
        key, _, value = line.partition(" ")
        if key == "nr_throttled":
            return int(value)
    raise ValueError(f"no nr_throttled in cpu.stat: {cpu_stat!r}")


class CpuStarvation(Fault):
    """Limit `container` to `cpus` CPUs (CFS quota); proven by busy workers inside getting ≈ `cpus`."""

    name = "cpu_starvation"

    def __init__(
        self,
        journal: Journal,
        backend: ContainerBackend,
        container: str,
        cpus: float,
        probe_s: float = 0.5,
        tolerance: float = 0.4,
        *,
        undo: UndoLog | None = None,
    ) -> None:
        super().__init__(journal, undo)
        if cpus < 0.01:
            raise ValueError("the engine refuses a CFS quota below 1 ms per 100 ms period (0.01 CPUs)")
        self.backend, self.container, self.cpus = backend, container, cpus
        self.probe_s, self.tolerance = probe_s, tolerance
        # more busy workers than the quota allows, so a quota of 1.5 CPUs starves them too
        self.workers = math.ceil(cpus) + 1
        self.measured: dict[str, Any] = {}
        self._restore: dict[str, int] | None = None  # the update that reverts the fault
        self._quota_before: int | None = None  # cpu.cfs_quota_us before (-1 = no limit)

    def describe(self) -> dict[str, Any]:
        """The limit, and what was measured so far."""
        return {"container": self.container, "cpus": self.cpus, "mode": "CFS quota (docker update)", **self.measured}

    def undo_actions(self) -> list[Action]:
        """The quota stays on the container after the harness dies: put back what revert would (read now)."""
        return [resources_op(self.container, self._plan(self.backend.resources(self.container))[1])]

    def _plan(self, before: dict[str, int]) -> tuple[dict[str, int], dict[str, int]]:
        """(the update that limits the container, the update that restores it), from its settings `before`."""
        if before["NanoCpus"] > 0:
            return {"NanoCpus": round(self.cpus * 1e9)}, {"NanoCpus": before["NanoCpus"]}
        period = int(self._cgroup("cpu.cfs_period_us"))
        restore = before["CpuQuota"] if before["CpuQuota"] > 0 else -1  # -1: the kernel's "no limit"
        return {"CpuQuota": round(self.cpus * period)}, {"CpuQuota": restore}

    def _cgroup(self, filename: str) -> int | str:
        text = self.backend.cgroup_read(self.container, "cpu", filename)
        return text if filename == "cpu.stat" else int(text)

    def _busy(self) -> float:
        """CPU-seconds per wall-second that `workers` busy processes inside the container get."""
        argv = ["python3", "-c", BUSY, str(self.workers), str(self.probe_s)]
        code, out = self.backend.exec(self.container, argv, timeout_s=self.probe_s * 20 + 5)
        if code != 0:
            raise RuntimeError(f"busy workers failed in {self.container} ({code}): {out.strip()}")
        return float(out.split()[0])

    def inject(self) -> None:
        """Measure the CPUs the workers get unlimited, then set the quota."""
        before = self.backend.resources(self.container)
        self._quota_before = int(self._cgroup("cpu.cfs_quota_us"))
        period = int(self._cgroup("cpu.cfs_period_us"))
        self.measured["limits_before"] = {**before, "kernel_quota_us": self._quota_before, "kernel_period_us": period}
        self.measured["cpus_got_before"] = self._busy()
        change, self._restore = self._plan(before)
        started = time.monotonic()
        self.backend.update_resources(self.container, **change)
        self.measured["update_ms"] = self.measured["inject_ms"] = round((time.monotonic() - started) * 1000, 1)
        self.measured["set"] = change

    def took_effect(self) -> bool:
        """The kernel throttled the cgroup while the workers ran, and they got ≤ cpus (+ tolerance)."""
        started = time.monotonic()
        throttled_before = throttled(str(self._cgroup("cpu.stat")))
        got = self._busy()
        self.measured["cpus_got_during"] = got
        self.measured["nr_throttled_during_probe"] = throttled(str(self._cgroup("cpu.stat"))) - throttled_before
        self.measured["effect_check_ms"] = round((time.monotonic() - started) * 1000, 1)
        return self.measured["nr_throttled_during_probe"] > 0 and got <= self.cpus * (1 + self.tolerance)

    def revert(self) -> None:
        """Put the quota (or NanoCpus) back."""
        if self._restore is None:
            return
        started = time.monotonic()
        if self.backend.status(self.container) != "missing":
            self.backend.update_resources(self.container, **self._restore)
        self.journal_revert_time(
            started,
            restored=self._restore,
        )
        self._restore = None

    def leftovers(self) -> list[str]:
        """The cgroup's quota differs from before the fault."""
        if self._quota_before is None or self.backend.status(self.container) not in ("running", "paused"):
            return []
        quota = int(self._cgroup("cpu.cfs_quota_us"))
        return (
            []
            if quota == self._quota_before
            else [f"{self.container}: cfs_quota_us {quota} (was {self._quota_before})"]
        )
