"""In-memory state of the control plane: repos, runs, jobs, runners, event log, groups.

One lock guards everything; `Store.cond` (built on that lock) is notified on every
change so long-polls (job acquire, event reads) wake up. Callers hold `store.lock`.
"""

from __future__ import annotations

import itertools
import threading
import time
from dataclasses import dataclass, field
from typing import Any

from harness.github.config import SimConfig
from harness.github.workflow import JobSpec, WorkflowSpec


@dataclass
class Repo:
    """An uploaded repository with its workflows, secrets and variables."""

    owner: str
    name: str
    id: int
    tarball: bytes = b""
    sha: str = ""
    workflows: dict[str, WorkflowSpec] = field(default_factory=dict)
    workflow_ids: dict[str, int] = field(default_factory=dict)  # path -> id
    secrets: dict[str, str] = field(default_factory=dict)
    variables: dict[str, str] = field(default_factory=dict)
    run_counter: int = 0

    @property
    def full_name(self) -> str:
        return f"{self.owner}/{self.name}"


@dataclass
class Runner:
    """A registered runner agent."""

    id: int
    name: str
    labels: tuple[str, ...]
    online: bool = True
    last_seen: float = 0.0  # monotonic
    session: str = ""
    current_job: int | None = None
    os: str = "Linux"

    @property
    def busy(self) -> bool:
        return self.current_job is not None


@dataclass
class StepState:
    """A step of a job as the REST API reports it."""

    number: int
    name: str
    status: str = "queued"  # queued, in_progress, completed
    conclusion: str | None = None
    outcome: str | None = None
    started_at: float | None = None
    completed_at: float | None = None


@dataclass
class Job:
    """A job of a run. status: pending -> queued -> in_progress -> completed."""

    id: int
    run_id: int
    key: str
    spec: JobSpec
    name: str
    status: str = "pending"
    conclusion: str | None = None
    result: str | None = None  # what `needs.<key>.result` reports
    waiting_concurrency: bool = False
    concurrency_group: str | None = None
    labels: tuple[str, ...] = ()
    runner_id: int | None = None
    runner_name: str | None = None
    created_at: float = 0.0
    queued_at: float | None = None
    started_at: float | None = None
    completed_at: float | None = None
    queued_seq: int = 0
    unmatched_since: float | None = None  # monotonic; queue-timeout clock
    lease_renewed: float = 0.0  # monotonic
    lease_token: str = ""
    cancel_requested: bool = False
    continue_on_error: bool = False
    timeout_minutes: float = 360.0
    outputs: dict[str, str] = field(default_factory=dict)
    steps: list[StepState] = field(default_factory=list)
    log: list[tuple[float, str]] = field(default_factory=list)
    annotations: list[dict[str, str]] = field(default_factory=list)
    summary: str = ""


@dataclass
class Run:
    """A workflow run. status: pending (concurrency) / queued -> in_progress -> completed."""

    id: int
    repo: str  # owner/name
    workflow: WorkflowSpec
    workflow_id: int
    run_number: int
    event: str
    ref: str
    sha: str
    inputs: dict[str, Any]
    event_inputs: dict[str, str]
    actor: str
    display_title: str
    status: str = "queued"
    conclusion: str | None = None
    created_at: float = 0.0
    started_at: float | None = None
    updated_at: float = 0.0
    cancel_requested: bool = False
    concurrency_group: str | None = None
    job_ids: dict[str, int] = field(default_factory=dict)  # job key -> id


@dataclass
class GroupSlot:
    """A concurrency group: at most one running holder and one pending."""

    running: str | None = None
    pending: str | None = None


@dataclass(frozen=True)
class Admission:
    """Result of entering a concurrency group."""

    started: bool
    cancel: tuple[str, ...]  # holder keys to cancel


class ConcurrencyGroups:
    """GitHub concurrency: one running + one pending; newer pending cancels older pending."""

    def __init__(self) -> None:
        self.slots: dict[str, GroupSlot] = {}

    @staticmethod
    def key(repo: str, group: str) -> str:
        """Groups are per repository and case-insensitive."""
        return f"{repo.casefold()}::{group.casefold()}"

    def enter(self, group: str, holder: str, cancel_in_progress: bool) -> Admission:
        """Admit `holder` now (started) or make it the pending one; says whom to cancel."""
        slot = self.slots.setdefault(group, GroupSlot())
        cancel: list[str] = []
        if slot.pending is not None:
            cancel.append(slot.pending)
            slot.pending = None
        if cancel_in_progress and slot.running is not None:
            cancel.append(slot.running)
        if slot.running is None:
            slot.running = holder
            return Admission(True, tuple(cancel))
        slot.pending = holder
        return Admission(False, tuple(cancel))

    def release(self, group: str, holder: str) -> str | None:
        """Remove `holder`; returns the pending holder that now runs, if any."""
        slot = self.slots.get(group)
        if slot is None:
            return None
        promoted = None
        if slot.running == holder:
            slot.running, slot.pending = slot.pending, None
            promoted = slot.running
        elif slot.pending == holder:
            slot.pending = None
        if slot.running is None and slot.pending is None:
            del self.slots[group]
        return promoted

    def snapshot(self) -> dict[str, dict[str, str | None]]:
        """JSON view for debugging."""
        return {g: {"running": s.running, "pending": s.pending} for g, s in self.slots.items()}


class Store:
    """All control-plane state plus the event log; guard every access with `lock`."""

    def __init__(self, config: SimConfig | None = None) -> None:
        self.lock = threading.RLock()
        self.cond = threading.Condition(self.lock)
        self.config = config or SimConfig()
        self.repos: dict[str, Repo] = {}
        self.runners: dict[int, Runner] = {}
        self.runs: dict[int, Run] = {}
        self.jobs: dict[int, Job] = {}
        self.groups = ConcurrencyGroups()
        self.events: list[dict[str, Any]] = []
        self._ids = itertools.count(1)
        self._run_ids = itertools.count(1000)
        self._job_ids = itertools.count(50000)
        self._runner_ids = itertools.count(1)
        self._queue_seq = itertools.count(1)

    def next_id(self) -> int:
        return next(self._ids)

    def next_run_id(self) -> int:
        return next(self._run_ids)

    def next_job_id(self) -> int:
        return next(self._job_ids)

    def next_runner_id(self) -> int:
        return next(self._runner_ids)

    def next_queue_seq(self) -> int:
        return next(self._queue_seq)

    def emit(self, event_type: str, **fields: Any) -> dict[str, Any]:
        """Append an event (seq, ts_ms, type, fields) and wake waiters. Caller holds the lock."""
        event = {"seq": len(self.events) + 1, "ts_ms": int(time.time() * 1000), "type": event_type, **fields}
        self.events.append(event)
        self.cond.notify_all()
        return event

    def events_after(self, seq: int, limit: int | None = None) -> list[dict[str, Any]]:
        """Events with seq > `seq` (seq is 1-based and dense)."""
        chunk = self.events[max(seq, 0) :]
        return chunk[:limit] if limit else chunk

    def repo(self, owner: str, name: str) -> Repo | None:
        return self.repos.get(f"{owner}/{name}".casefold())

    def job_event_fields(self, job: Job) -> dict[str, Any]:
        """Fields every job-scoped event carries."""
        return {"job_id": job.id, "run_id": job.run_id, "job_key": job.key}
