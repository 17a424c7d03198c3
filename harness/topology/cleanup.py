"""Remove what harness runs left behind, selected by label; sweep runs whose harness died.

Every container and network of a topology names its owning harness process in labels (pid, the
process's start time, the machine's boot id, host name and PID namespace). A run is *dead* when,
judged from the same machine and PID namespace, that process is certainly gone: the pid is not
running (or is a zombie), it runs with another start time (the pid was reused), or the machine
booted since. Anything else (alive, no owner labels, another host or namespace sharing the engine)
is never swept. A sweep replays the dead run's pending undo log first, then removes it.
"""

from __future__ import annotations

import os
import socket
from dataclasses import dataclass, field
from pathlib import Path

from docker.errors import DockerException

from harness.faults.undo import UndoLog, default_undo_dir
from harness.topology.backend import LABEL_MANAGED, LABEL_RUN, ContainerBackend

LABEL_OWNER_PID = "dch.owner_pid"
LABEL_OWNER_START = "dch.owner_start"  # field 22 of /proc/<pid>/stat: clock ticks after boot
LABEL_OWNER_BOOT = "dch.owner_boot"  # /proc/sys/kernel/random/boot_id
LABEL_OWNER_HOST = "dch.owner_host"
LABEL_OWNER_PIDNS = "dch.owner_pidns"  # /proc/self/ns/pid: pids mean something only inside it


@dataclass
class CleanupReport:
    """What was removed, and what of the runs' pending undo logs was replayed first."""

    containers: list[str] = field(default_factory=list)
    networks: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)  # one line each: what could not be removed, and why
    undone: list[str] = field(default_factory=list)  # fault ids whose pending undo entries were replayed
    not_undone: list[str] = field(default_factory=list)  # one line each: an undo action that failed


def cleanup(backend: ContainerBackend, run_id: str | None = None, undo_dir: Path | None = None) -> CleanupReport:
    """Remove containers, then networks, of run `run_id` (or of every harness run).

    With `undo_dir`, each run's pending undo log there is replayed before its containers go."""
    labels = {LABEL_MANAGED: "true"}
    if run_id:
        labels[LABEL_RUN] = run_id
    report = CleanupReport()
    containers = backend.list_containers(labels)
    if undo_dir is not None:
        runs = {run_id} if run_id else {c.labels[LABEL_RUN] for c in containers if c.labels.get(LABEL_RUN)}
        for run in sorted(runs):
            replayed = UndoLog.for_run(run, undo_dir).replay(backend)
            report.undone += replayed.undone
            report.not_undone += [f"run {run}: {line}" for line in replayed.failed]
    for info in containers:
        try:
            backend.remove_container(info.id)
        except DockerException as exc:  # the others are still removed; the caller names this one
            report.failed.append(f"container {info.name}: {_one_line(exc)}")
        else:
            report.containers.append(info.name)
    for network in backend.list_networks(labels):
        try:
            backend.remove_network(network)
        except DockerException as exc:
            report.failed.append(f"network {network}: {_one_line(exc)}")
        else:
            report.networks.append(network)
    return report


def _one_line(exc: Exception) -> str:
    return " ".join(str(exc).split())[:300]


def leftovers(backend: ContainerBackend, run_id: str) -> list[str]:
    """Names of containers of `run_id` that still exist, with their status."""
    return [f"{c.name} ({c.status})" for c in backend.list_containers({LABEL_MANAGED: "true", LABEL_RUN: run_id})]


# ---- owners -----------------------------------------------------------------


def _stat(pid: int) -> list[str] | None:
    """Fields 3.. of /proc/<pid>/stat (state first), or None when /proc shows no such process."""
    try:
        text = Path(f"/proc/{pid}/stat").read_text()
    except OSError:  # gone, or hidden from us (hidepid): _exists tells which
        return None
    return text.rsplit(")", 1)[1].split()  # the command name (field 2) may hold spaces and parentheses


def process_start(pid: int) -> str | None:
    """Start time of process `pid` (field 22 of /proc/<pid>/stat), or None when /proc shows no such process."""
    fields = _stat(pid)
    return None if fields is None else fields[22 - 3]


def _exists(pid: int) -> bool:
    """True when a process `pid` exists, even one /proc hides from us (hidepid) or of another user."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def owner_labels(pid: int | None = None) -> dict[str, str]:
    """Labels naming process `pid` (default: this one) as a run's owner; none where /proc cannot say."""
    pid = pid or os.getpid()
    try:
        start = process_start(pid)
        boot = Path("/proc/sys/kernel/random/boot_id").read_text().strip()
        pidns = os.readlink("/proc/self/ns/pid")
    except OSError:
        return {}  # not Linux, or /proc hidden: a run without owner labels is never swept
    if start is None:
        return {}
    return {
        LABEL_OWNER_PID: str(pid),
        LABEL_OWNER_START: start,
        LABEL_OWNER_BOOT: boot,
        LABEL_OWNER_HOST: socket.gethostname(),
        LABEL_OWNER_PIDNS: pidns,
    }


def owner_gone(labels: dict[str, str], here: dict[str, str]) -> str | None:
    """Why the owner `labels` name is certainly gone, judged from `here` (owner_labels()); None when it may
    be alive or cannot be judged from here (no owner labels, another host or PID namespace)."""
    pid, start, boot = (labels.get(k, "") for k in (LABEL_OWNER_PID, LABEL_OWNER_START, LABEL_OWNER_BOOT))
    if not (pid.isdigit() and start and boot and here) or labels.get(LABEL_OWNER_HOST) != here[LABEL_OWNER_HOST]:
        return None
    if boot != here[LABEL_OWNER_BOOT]:
        return f"the machine booted since (boot id {boot[:8]}, now {here[LABEL_OWNER_BOOT][:8]})"
    if labels.get(LABEL_OWNER_PIDNS) != here[LABEL_OWNER_PIDNS]:
        return None  # its pid is not ours to look up
    fields = _stat(int(pid))
    if fields is None:
        return None if _exists(int(pid)) else "not running"  # hidden by /proc: cannot judge
    if fields[22 - 3] != start:
        return f"reused by another process (started at tick {fields[22 - 3]}, the owner at {start})"
    if fields[0] in ("Z", "X"):  # exited; only its parent has not reaped it yet
        return "exited (a zombie)"
    return None


@dataclass
class SweptRun:
    """A run whose harness died, and how it was cleaned up."""

    run_id: str
    owner_pid: str
    reason: str
    report: CleanupReport

    def line(self) -> str:
        """One line for a person: which run, whose, and what was done."""
        r = self.report
        return (
            f"cleaned up run {self.run_id} left by a harness that died (pid {self.owner_pid}: {self.reason}): "
            f"replayed the undo of {len(r.undone)} fault(s), removed {len(r.containers)} container(s) "
            f"and {len(r.networks)} network(s)"
        )


def dead_runs(backend: ContainerBackend, keep: str | None = None) -> dict[str, tuple[str, str]]:
    """run id -> (owner pid, why it is gone), for every managed run whose every owner is certainly gone.

    A run with a container of a live (or unjudgeable) owner, or without owner labels, is never listed; nor `keep`."""
    here = owner_labels()
    verdicts: dict[str, list[tuple[str, str | None]]] = {}
    for info in backend.list_containers({LABEL_MANAGED: "true"}):
        run = info.labels.get(LABEL_RUN)
        if run and run != keep:
            verdicts.setdefault(run, []).append((info.labels.get(LABEL_OWNER_PID, "?"), owner_gone(info.labels, here)))
    return {
        run: (found[0][0], str(found[0][1]))
        for run, found in sorted(verdicts.items())
        if all(reason is not None for _, reason in found)
    }


def sweep_dead_runs(backend: ContainerBackend, undo_dir: Path | None = None, keep: str | None = None) -> list[SweptRun]:
    """Replay the pending undo log of every dead run (reports/undo by default), then remove the run."""
    undo_dir = undo_dir or default_undo_dir()
    return [
        SweptRun(run, pid, reason, cleanup(backend, run, undo_dir))
        for run, (pid, reason) in dead_runs(backend, keep).items()
    ]
