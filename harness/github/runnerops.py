"""The runner-facing protocol: register, heartbeat, acquire (long-poll), lease, steps, logs.

A job is bound to the runner that acquired it by a random lease token; every job call
carries it, and a call for a job that is no longer leased to that token gets 410 Gone.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterable, Mapping
from typing import Any

from harness.github import contexts, expressions
from harness.github.engine import Engine
from harness.github.errors import ApiError
from harness.github.masking import Masker
from harness.github.matching import QueuedJobView, RunnerView, choose_job, normalize_labels
from harness.github.state import Job, Runner, StepState

CONCLUSIONS = ("success", "failure", "cancelled", "skipped")


class RunnerService:
    """Runner protocol operations over an Engine; each method takes the store lock."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.store = engine.store

    # ------------------------------------------------------------ runners

    def register(self, name: str, labels: Iterable[str]) -> Runner:
        """Register (or re-register, replacing) a runner by name; it comes online idle."""
        name = name.strip()
        if not name:
            raise ApiError(422, "runner name is required")
        clean = normalize_labels(labels)
        with self.store.lock:
            runner = next((r for r in self.store.runners.values() if r.name == name), None)
            if runner is None:
                runner = Runner(id=self.store.next_runner_id(), name=name, labels=clean, online=False)
                self.store.runners[runner.id] = runner
            runner.labels = clean
            runner.session = secrets.token_hex(8)
            runner.current_job = None  # a job of a previous session is left to its lease
            self.store.emit("runner.registered", runner_id=runner.id, runner_name=name, labels=list(clean))
            self.touch(runner)
            return runner

    def deregister(self, runner_id: int) -> None:
        """Remove a runner (it goes offline with reason 'deregistered')."""
        with self.store.lock:
            runner = self._runner(runner_id)
            del self.store.runners[runner.id]
            self.store.emit("runner.offline", runner_id=runner.id, runner_name=runner.name, reason="deregistered")

    def _runner(self, runner_id: int, session: str | None = None) -> Runner:
        runner = self.store.runners.get(runner_id)
        if runner is None or (session and runner.session != session):
            raise ApiError(404, "runner not registered (register again)")
        return runner

    def touch(self, runner: Runner) -> None:
        """Record that the runner talked to us; bring it back online. Caller holds the lock."""
        runner.last_seen = time.monotonic()
        if not runner.online:
            runner.online = True
            self.store.emit("runner.online", runner_id=runner.id, runner_name=runner.name, labels=list(runner.labels))

    def heartbeat(self, runner_id: int, session: str | None = None) -> dict[str, Any]:
        """Liveness ping; says whether the runner's current job was cancelled."""
        with self.store.lock:
            runner = self._runner(runner_id, session)
            self.touch(runner)
            job = self.store.jobs.get(runner.current_job) if runner.current_job else None
            return {
                "runner_id": runner.id,
                "current_job": runner.current_job,
                "cancel_requested": bool(job and job.cancel_requested),
            }

    # ------------------------------------------------------------ acquire

    def acquire(self, runner_id: int, session: str | None, wait_s: float, base_url: str) -> dict[str, Any] | None:
        """Long-poll for a job: the earliest queued job whose labels this idle runner carries."""
        deadline = time.monotonic() + max(0.0, min(wait_s, 60.0))
        with self.store.lock:
            while True:
                runner = self._runner(runner_id, session)
                self.touch(runner)
                if not runner.busy:
                    view = RunnerView(runner.id, runner.name, runner.labels, runner.online, runner.busy)
                    queued = [
                        QueuedJobView(j.id, j.labels, j.queued_seq)
                        for j in self.store.jobs.values()
                        if j.status == "queued"
                    ]
                    chosen = choose_job(view, queued)
                    if chosen is not None:
                        return self._assign(runner, self.store.jobs[chosen.id], base_url)
                remaining = deadline - time.monotonic()
                if remaining <= 0:
                    return None
                self.store.cond.wait(remaining)

    def _assign(self, runner: Runner, job: Job, base_url: str) -> dict[str, Any]:
        run = self.store.runs[job.run_id]
        repo = self.store.repos[run.repo.casefold()]
        job.status = "in_progress"
        job.runner_id, job.runner_name = runner.id, runner.name
        job.started_at = time.time()
        job.lease_renewed = time.monotonic()
        job.lease_token = secrets.token_hex(16)
        runner.current_job = job.id
        job.steps = [StepState(number=s.number, name=s.display_name()) for s in job.spec.steps]
        run.updated_at = job.started_at
        self.store.emit(
            "job.started",
            **self.store.job_event_fields(job),
            runner_id=runner.id,
            runner_name=runner.name,
            labels=list(job.labels),
        )
        token = "ghs_" + secrets.token_hex(18)
        ctx = contexts.job_level_contexts(run, repo, job, self.store.jobs, base_url)
        ctx["github"] = contexts.github_context(run, repo, base_url, job.key, token)
        ctx["secrets"] = {**repo.secrets, "GITHUB_TOKEN": token}
        ctx["job"] = {"status": "success", "container": {}, "services": {}}
        ctx["runner"] = {"name": runner.name, "os": runner.os, "arch": "X64", "environment": "self-hosted"}
        spec = run.workflow
        return {
            "job_id": job.id,
            "run_id": run.id,
            "job_key": job.key,
            "name": job.name,
            "lease_token": job.lease_token,
            "labels": list(job.labels),
            "repository": repo.full_name,
            "workflow": spec.path,
            "workflow_env": dict(spec.env),
            "defaults_run": {**spec.defaults_run, **job.spec.defaults_run},
            "timeout_minutes": job.timeout_minutes,
            "job": job.spec.to_dict(),
            "contexts": ctx,
        }

    # ------------------------------------------------------------ leased job calls

    def _leased(self, job_id: int, token: str) -> Job:
        job = self.store.jobs.get(job_id)
        if job is None:
            raise ApiError(404, f"job {job_id} not found")
        if job.status != "in_progress" or job.lease_token != token:
            raise ApiError(
                410,
                f"job {job_id} is no longer leased to this runner",
                job_status=job.status,
                conclusion=job.conclusion,
            )
        runner = self.store.runners.get(job.runner_id or -1)
        if runner is not None:
            self.touch(runner)
        return job

    def _reply(self, job: Job) -> dict[str, Any]:
        return {"cancel_requested": job.cancel_requested}

    def renew(self, job_id: int, token: str) -> dict[str, Any]:
        """Extend the job lease; the reply says whether cancellation was requested."""
        with self.store.lock:
            job = self._leased(job_id, token)
            job.lease_renewed = time.monotonic()
            return self._reply(job)

    def _step(self, job: Job, number: int) -> StepState:
        for step in job.steps:
            if step.number == number:
                return step
        raise ApiError(422, f"job {job.id} has no step {number}")

    def step_started(self, job_id: int, token: str, number: int, name: str | None) -> dict[str, Any]:
        """A step began running."""
        with self.store.lock:
            job = self._leased(job_id, token)
            step = self._step(job, number)
            step.name = name or step.name
            step.status, step.started_at = "in_progress", time.time()
            self.store.emit("step.started", **self.store.job_event_fields(job), number=number, name=step.name)
            return self._reply(job)

    def step_completed(
        self, job_id: int, token: str, number: int, outcome: str, conclusion: str, name: str | None = None
    ) -> dict[str, Any]:
        """A step finished (or was skipped: conclusion 'skipped' without a start)."""
        if outcome not in CONCLUSIONS or conclusion not in CONCLUSIONS:
            raise ApiError(422, f"outcome/conclusion must be one of {CONCLUSIONS}")
        with self.store.lock:
            job = self._leased(job_id, token)
            step = self._step(job, number)
            step.name = name or step.name
            step.status, step.outcome, step.conclusion = "completed", outcome, conclusion
            step.completed_at = time.time()
            step.started_at = step.started_at or step.completed_at
            self.store.emit(
                "step.completed",
                **self.store.job_event_fields(job),
                number=number,
                name=step.name,
                outcome=outcome,
                conclusion=conclusion,
            )
            return self._reply(job)

    def append_log(self, job_id: int, token: str, lines: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
        """Append log lines ({"ts": epoch s, "text": str}); secrets are masked again here."""
        with self.store.lock:
            job = self._leased(job_id, token)
            masker = self._masker(job)
            for line in lines:
                ts = float(line.get("ts") or time.time())
                job.log.append((ts, masker.mask(str(line.get("text", "")))))
            return self._reply(job)

    def _masker(self, job: Job) -> Masker:
        run = self.store.runs[job.run_id]
        return Masker(self.store.repos[run.repo.casefold()].secrets.values())

    def complete(
        self,
        job_id: int,
        token: str,
        conclusion: str,
        outputs: Mapping[str, Any] | None,
        annotations: Iterable[Mapping[str, Any]] = (),
        summary: str = "",
    ) -> dict[str, Any]:
        """The runner finished the job; outputs become `needs.<key>.outputs`."""
        if conclusion not in ("success", "failure", "cancelled"):
            raise ApiError(422, "conclusion must be success, failure or cancelled")
        with self.store.lock:
            job = self._leased(job_id, token)
            masker = self._masker(job)
            job.outputs = {str(k): expressions.to_string(v) for k, v in (outputs or {}).items()}
            job.annotations.extend(
                {"level": str(a.get("level", "failure")), "message": masker.mask(str(a.get("message", "")))}
                for a in annotations
            )
            job.summary = masker.mask(summary)
            self.engine.finish_job(job, conclusion)
            self.engine.settle()
            return {"ok": True}
