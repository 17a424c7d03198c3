"""The durable undo log of a run's faults, and the generic executor that replays it.

Before a fault injects, its undo actions are appended to `reports/undo/<run_id>.jsonl` and forced
to disk; once its revert succeeded, a `done` entry follows. When the harness dies between the two
(SIGKILL, OOM, a lost CI machine), the entries without `done` say exactly what is still in place,
and `replay` undoes it with nothing but a ContainerBackend, newest fault first.

An action is plain JSON data naming one container:
- {"op": "unpause", "container": c}: thaw it if it is paused;
- {"op": "start", "container": c}: start it if it is stopped;
- {"op": "update_resources", "container": c, "resources": {...}}: docker update (engine field names);
- {"op": "exec" | "netns_exec" | "mntns_exec", "container": c, "argv": [...], "ok_codes": [0, ...]}:
  run argv inside the container, or a host binary in its network / mount namespace; an exit code in
  `ok_codes` (default [0]) means undone (or nothing was left to undo).
"""

from __future__ import annotations

import json
import os
import threading
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.core.settings import reports_dir
from harness.topology.backend import ContainerBackend

Action = dict[str, Any]
STOPPED = ("exited", "dead", "created")
HAS_NAMESPACES = ("running", "paused")  # a stopped container's namespaces went away with its processes


def default_undo_dir() -> Path:
    """Where undo logs live: reports/undo (DCH_REPORTS_DIR moves it with the other reports)."""
    return reports_dir() / "undo"


def unpause_op(container: str) -> Action:
    """Thaw `container` if it is paused."""
    return {"op": "unpause", "container": container}


def start_op(container: str) -> Action:
    """Start `container` if it is stopped."""
    return {"op": "start", "container": container}


def resources_op(container: str, resources: dict[str, int]) -> Action:
    """Set `container`'s resource settings back (engine field names, as `docker update` takes them)."""
    return {"op": "update_resources", "container": container, "resources": dict(resources)}


def command_op(op: str, container: str, argv: Sequence[str], ok_codes: Sequence[int] = (0,)) -> Action:
    """Run `argv` with `op` (exec, netns_exec or mntns_exec); exit codes in `ok_codes` count as undone."""
    if op not in ("exec", "netns_exec", "mntns_exec"):
        raise ValueError(f"op must be exec, netns_exec or mntns_exec, not {op!r}")
    return {"op": op, "container": container, "argv": list(argv), "ok_codes": list(ok_codes)}


class UndoLog:
    """Append-only, fsync'ed JSON lines of one run: what each fault's undo is, and which were undone."""

    def __init__(self, run_id: str, path: Path) -> None:
        self.run_id, self.path = run_id, path
        self._lock = threading.Lock()  # faults of one run may be entered from several threads

    @classmethod
    def for_run(cls, run_id: str, directory: Path | None = None) -> UndoLog:
        """The log of `run_id` in `directory` (default: reports/undo); the file appears with its first entry."""
        return cls(run_id, (directory or default_undo_dir()) / f"{run_id}.jsonl")

    def begin(self, fault_id: str, fault: str, actions: list[Action]) -> None:
        """Record, durably, how to undo `fault_id` (call before injecting it)."""
        actions = json.loads(json.dumps(actions))  # plain JSON data, exactly as a replay will read it
        self._append({"run_id": self.run_id, "fault_id": fault_id, "fault": fault, "actions": actions})

    def done(self, fault_id: str, by: str = "revert") -> None:
        """Record, durably, that `fault_id` is undone (by its own revert, or by a replay)."""
        self._append({"fault_id": fault_id, "done": True, "by": by})

    def _append(self, entry: dict[str, Any]) -> None:
        line = (json.dumps({**entry, "ts_ms": int(time.time() * 1000)}) + "\n").encode()
        with self._lock:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            created = not self.path.exists()
            fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o644)
            try:
                os.write(fd, line)  # one write: a reader never sees half of an entry after a crash, only a torn tail
                os.fsync(fd)
            finally:
                os.close(fd)
            if created:  # the new file's directory entry must survive a crash too
                dir_fd = os.open(self.path.parent, os.O_RDONLY)
                try:
                    os.fsync(dir_fd)
                finally:
                    os.close(dir_fd)

    def entries(self) -> list[dict[str, Any]]:
        """Every entry read back; a torn last line (the harness died mid-write) is skipped."""
        try:
            lines = self.path.read_text().splitlines()
        except FileNotFoundError:
            return []
        found = []
        for line in lines:
            try:
                entry = json.loads(line)
            except ValueError:
                continue
            if isinstance(entry, dict) and "fault_id" in entry:
                found.append(entry)
        return found

    def pending(self) -> list[dict[str, Any]]:
        """Faults logged before injection and never marked done, oldest first."""
        entries = self.entries()
        finished = {e["fault_id"] for e in entries if e.get("done")}
        return [e for e in entries if not e.get("done") and e["fault_id"] not in finished]

    def replay(self, backend: ContainerBackend) -> UndoReplay:
        """Undo every pending fault (newest first) and mark those fully undone as done; never raises."""
        try:
            pending = self.pending()
        except OSError as exc:
            return UndoReplay(failed=[f"cannot read the undo log {self.path}: {exc}"])
        result = replay(backend, pending)
        for fault_id in result.undone:
            try:
                self.done(fault_id, by="replay")
            except OSError as exc:  # undone all the same; a later replay would only find nothing left to undo
                result.failed.append(f"{fault_id}: undone, but not marked done in {self.path}: {exc}")
        return result


@dataclass
class UndoReplay:
    """What a replay did: faults fully undone, actions skipped (nothing there to undo), actions that failed."""

    undone: list[str] = field(default_factory=list)  # fault ids
    skipped: list[str] = field(default_factory=list)  # one line each
    failed: list[str] = field(default_factory=list)  # one line each: what could not be undone, and why


def replay(backend: ContainerBackend, entries: list[dict[str, Any]]) -> UndoReplay:
    """Run the actions of `entries`, newest entry first; never raises (failures are returned, one line each)."""
    result = UndoReplay()
    for entry in reversed(entries):
        fault_id = str(entry.get("fault_id"))
        failures = len(result.failed)
        for action in entry.get("actions") or []:
            try:
                skipped = _apply(backend, action)
            except Exception as exc:  # any engine or host error: name it and go on with the next action
                result.failed.append(f"{fault_id}: {_what(action)}: {_one_line(exc)}")
                continue
            if skipped:
                result.skipped.append(f"{fault_id}: {_what(action)}: {skipped}")
        if len(result.failed) == failures:
            result.undone.append(fault_id)
    return result


def _apply(backend: ContainerBackend, action: Action) -> str | None:
    """Carry out one action; return why it was skipped (nothing to undo), or None; raise if it failed."""
    op, container = action.get("op"), str(action.get("container"))
    status = backend.status(container)
    if status == "missing":
        return "the container no longer exists"
    if op == "unpause":
        if status != "paused":
            return f"not paused ({status})"
        backend.unpause(container)
    elif op == "start":
        if status not in STOPPED:
            return f"not stopped ({status})"
        backend.start(container)
    elif op == "update_resources":
        backend.update_resources(container, **{k: int(v) for k, v in action["resources"].items()})
    elif op in ("netns_exec", "mntns_exec", "exec"):
        if op != "exec" and status not in HAS_NAMESPACES:
            return f"{status}: its namespaces went away with its processes"
        if op == "exec" and status != "running":
            raise RuntimeError(f"cannot exec in a container that is {status}")
        argv = [str(a) for a in action["argv"]]
        run_in = {"exec": backend.exec, "netns_exec": backend.netns_exec, "mntns_exec": backend.mntns_exec}[op]
        code, out = run_in(container, argv)
        if code not in action.get("ok_codes", [0]):
            raise RuntimeError(f"exit {code}: {out.strip()}")
    else:
        raise ValueError(f"unknown undo op {op!r}")
    return None


def _what(action: Action) -> str:
    """`op container argv` on one line, a long argv (e.g. a script) cut short."""
    argv = " ".join(" ".join(map(str, action.get("argv") or [])).split())
    return f"{action.get('op')} {action.get('container')}" + (f" {argv[:100]}" if argv else "")


def _one_line(exc: BaseException) -> str:
    return " ".join(f"{type(exc).__name__}: {exc}".split())[:300]
