"""Run and job lifecycle: dispatch, the `needs` DAG, job `if`, concurrency, cancellation.

Every public method takes the store lock itself. Methods documented "caller holds the
lock" are building blocks for runnerops.py and monitor.py.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

from harness.github import contexts, expressions, inputs, tarballs, workflow
from harness.github.errors import ApiError, ExpressionError, WorkflowError
from harness.github.matching import labels_from_value
from harness.github.state import Job, Repo, Run, Store


class Engine:
    """The control plane's behaviour over a Store."""

    def __init__(self, store: Store, public_url: str = "http://localhost:8000") -> None:
        self.store = store
        self.public_url = public_url
        self._dirty: set[int] = set()  # run ids to re-examine in settle()

    # ------------------------------------------------------------ repositories

    def put_repo(self, owner: str, name: str, data: bytes) -> list[str]:
        """Store a repository tarball; validate all workflows (WorkflowError on any issue)."""
        try:
            archive = tarballs.normalize_upload(owner, name, data)
        except ValueError as exc:
            raise ApiError(400, f"Repository upload must be a tar.gz archive: {exc}") from exc
        specs, issues = workflow.parse_workflows(archive.workflows)
        if issues:
            raise WorkflowError(issues)
        with self.store.lock:
            repo = self.store.repo(owner, name)
            if repo is None:
                repo = Repo(owner=owner, name=name, id=self.store.next_id())
                self.store.repos[repo.full_name.casefold()] = repo
            repo.tarball, repo.sha, repo.workflows = archive.tarball, archive.sha, specs
            for path in specs:
                repo.workflow_ids.setdefault(path, self.store.next_id())
            self.store.emit("repo.updated", repo=repo.full_name, sha=repo.sha, workflows=sorted(specs))
            return sorted(specs)

    def require_repo(self, owner: str, name: str) -> Repo:
        """The repo or a 404. Caller holds the lock."""
        repo = self.store.repo(owner, name)
        if repo is None:
            raise ApiError(404, "Not Found", documentation_url="https://docs.github.com/rest")
        return repo

    def set_secret(self, owner: str, name: str, secret: str, value: str | None) -> None:
        """Create/update a repository secret, or delete it when value is None."""
        with self.store.lock:
            repo = self.require_repo(owner, name)
            if value is None:
                if repo.secrets.pop(secret, None) is None:
                    raise ApiError(404, f"Secret {secret} not found")
            else:
                repo.secrets[secret] = value

    def set_variable(self, owner: str, name: str, variable: str, value: str | None) -> None:
        """Create/update a repository variable (`vars` context), or delete it when value is None."""
        with self.store.lock:
            repo = self.require_repo(owner, name)
            if value is None:
                if repo.variables.pop(variable, None) is None:
                    raise ApiError(404, f"Variable {variable} not found")
            else:
                repo.variables[variable] = value

    def find_workflow(self, repo: Repo, workflow_id: str) -> workflow.WorkflowSpec:
        """By file name ('deploy.yml'), path or numeric id; 404 otherwise. Caller holds the lock."""
        for path, spec in repo.workflows.items():
            if workflow_id in (spec.file_name, path, str(repo.workflow_ids.get(path))):
                return spec
        raise ApiError(404, f"Workflow {workflow_id!r} not found in {repo.full_name}")

    # ------------------------------------------------------------ runs

    def dispatch(
        self,
        owner: str,
        name: str,
        workflow_id: str,
        ref: str,
        given_inputs: Mapping[str, Any] | None,
        actor: str = "harness",
    ) -> Run:
        """Create a workflow_dispatch run (422 for bad inputs, 404 for unknown workflow)."""
        with self.store.lock:
            repo = self.require_repo(owner, name)
            spec = self.find_workflow(repo, workflow_id)
            if not ref:
                raise ApiError(422, 'Invalid request. "ref" wasn\'t supplied.')
            typed, strings = inputs.resolve_inputs(spec, given_inputs)
            repo.run_counter += 1
            now = time.time()
            run = Run(
                id=self.store.next_run_id(),
                repo=repo.full_name,
                workflow=spec,
                workflow_id=repo.workflow_ids[spec.path],
                run_number=repo.run_counter,
                event="workflow_dispatch",
                ref=ref,
                sha=repo.sha,
                inputs=typed,
                event_inputs=strings,
                actor=actor,
                display_title=spec.name,
                created_at=now,
                updated_at=now,
            )
            self.store.runs[run.id] = run
            for key, job_spec in spec.jobs.items():
                job = Job(
                    id=self.store.next_job_id(),
                    run_id=run.id,
                    key=key,
                    spec=job_spec,
                    name=job_spec.name or key,
                    created_at=now,
                )
                if expressions.has_expression(job.name):
                    job.name = key
                self.store.jobs[job.id] = job
                run.job_ids[key] = job.id
            run_ctx = contexts.run_level_contexts(run, repo, self.public_url)
            if spec.run_name:
                run.display_title = self._eval_text(spec.run_name, run_ctx, fallback=spec.name)
            self.store.emit("run.queued", run_id=run.id, repo=repo.full_name, workflow=spec.path, ref=ref, inputs=typed)
            self._admit_run(run, repo, run_ctx)
            self.settle()
            return run

    def _admit_run(self, run: Run, repo: Repo, run_ctx: dict[str, Any]) -> None:
        conc = run.workflow.concurrency
        if conc is None:
            self._start_run(run)
            return
        try:
            group = expressions.to_string(expressions.evaluate_template(conc.group, run_ctx))
            cancel = expressions.truthy(expressions.evaluate_template(conc.cancel_in_progress, run_ctx))
        except ExpressionError as exc:
            self._fail_run_early(run, f"Error evaluating workflow concurrency: {exc}")
            return
        run.concurrency_group = self.store.groups.key(repo.full_name, group)
        admission = self.store.groups.enter(run.concurrency_group, f"run:{run.id}", cancel)
        for holder in admission.cancel:
            self._cancel_holder(holder, reason=f"concurrency group {group!r}")
        if admission.started:
            self._start_run(run)
        else:
            run.status = "pending"
            self.store.emit("run.pending", run_id=run.id, concurrency_group=group)

    def _start_run(self, run: Run) -> None:
        run.status = "in_progress"
        run.started_at = run.updated_at = time.time()
        self.store.emit("run.started", run_id=run.id, workflow=run.workflow.path)
        self._dirty.add(run.id)

    def _fail_run_early(self, run: Run, message: str) -> None:
        run.status = "in_progress"
        for job in self.jobs_of(run):
            job.annotations.append({"level": "failure", "message": message})
            self.finish_job(job, "failure")
        self._dirty.add(run.id)

    def cancel_run(self, owner: str, name: str, run_id: int) -> None:
        """POST .../runs/{id}/cancel: queued jobs cancel now, running jobs are told via the runner."""
        with self.store.lock:
            repo = self.require_repo(owner, name)
            run = self.store.runs.get(run_id)
            if run is None or run.repo != repo.full_name:
                raise ApiError(404, "Not Found")
            if run.status == "completed":
                raise ApiError(409, "Cannot cancel a workflow run that is completed.")
            self.request_run_cancel(run, reason="api")
            self.settle()

    def request_run_cancel(self, run: Run, reason: str) -> None:
        """Cancel a run: pending/queued jobs conclude cancelled, running ones get cancel_requested.

        Jobs whose `if:` uses always()/cancelled() stay pending and are evaluated later.
        Caller holds the lock.
        """
        if run.status == "completed":
            return
        if not run.cancel_requested:
            run.cancel_requested = True
            self.store.emit("run.cancel_requested", run_id=run.id, reason=reason)
        never_started = run.status == "pending"
        if never_started:
            self._release_run_group(run)
            run.status = "in_progress"  # completes in settle() once its jobs are cancelled
        for job in self.jobs_of(run):
            if job.status == "completed":
                continue
            if job.status == "in_progress":
                self.request_job_cancel(job)
            elif job.status == "queued" or job.waiting_concurrency or never_started:
                self.finish_job(job, "cancelled")
            elif not expressions.condition_uses_status(job.spec.if_):
                self.finish_job(job, "cancelled")
        self._dirty.add(run.id)

    def request_job_cancel(self, job: Job) -> None:
        """Cancel one job (e.g. concurrency cancel-in-progress). Caller holds the lock."""
        if job.status == "completed":
            return
        if job.status == "in_progress":
            if not job.cancel_requested:
                job.cancel_requested = True
                self.store.emit("job.cancel_requested", **self.store.job_event_fields(job))
        else:
            self.finish_job(job, "cancelled")

    def _cancel_holder(self, holder: str, reason: str) -> None:
        kind, _, ident = holder.partition(":")
        if kind == "run":
            run = self.store.runs.get(int(ident))
            if run is not None:
                self.request_run_cancel(run, reason=reason)
        else:
            job = self.store.jobs.get(int(ident))
            if job is not None:
                self.request_job_cancel(job)

    def _promote(self, holder: str | None) -> None:
        if holder is None:
            return
        kind, _, ident = holder.partition(":")
        if kind == "run":
            run = self.store.runs[int(ident)]
            if run.status == "pending":
                self._start_run(run)
        else:
            job = self.store.jobs[int(ident)]
            if job.waiting_concurrency and job.status == "pending":
                job.waiting_concurrency = False
                run = self.store.runs[job.run_id]
                self._queue_job(run, job, self._job_contexts(run, job))

    def _release_run_group(self, run: Run) -> None:
        if run.concurrency_group:
            self._promote(self.store.groups.release(run.concurrency_group, f"run:{run.id}"))

    # ------------------------------------------------------------ jobs

    def jobs_of(self, run: Run) -> list[Job]:
        """Jobs of a run in workflow order. Caller holds the lock."""
        return [self.store.jobs[job_id] for job_id in run.job_ids.values()]

    def _job_contexts(self, run: Run, job: Job) -> dict[str, Any]:
        repo = self.store.repos[run.repo.casefold()]
        return contexts.job_level_contexts(run, repo, job, self.store.jobs, self.public_url)

    def settle(self) -> None:
        """Advance every run touched since the last call until nothing changes. Caller holds the lock."""
        while self._dirty:
            run = self.store.runs.get(self._dirty.pop())
            if run is not None:
                self._advance(run)

    def _advance(self, run: Run) -> None:
        if run.status != "in_progress":
            return
        progressed = True
        while progressed:
            progressed = False
            for job in self.jobs_of(run):
                if job.status != "pending" or job.waiting_concurrency:
                    continue
                deps = [self.store.jobs[run.job_ids[key]] for key in job.spec.needs]
                if all(dep.status == "completed" for dep in deps):
                    self._on_ready(run, job)
                    progressed = True
        self._maybe_finish_run(run)

    def _on_ready(self, run: Run, job: Job) -> None:
        ctx = self._job_contexts(run, job)
        status = contexts.job_status(run, job, self.store.jobs)
        try:
            should_run = expressions.evaluate_condition(job.spec.if_, ctx, status=status)
        except ExpressionError as exc:
            job.annotations.append({"level": "failure", "message": f"Error evaluating job 'if': {exc}"})
            self.finish_job(job, "failure")
            return
        if not should_run:
            self.finish_job(job, "skipped")
            return
        conc = job.spec.concurrency
        if conc is not None:
            try:
                group = expressions.to_string(expressions.evaluate_template(conc.group, ctx))
                cancel = expressions.truthy(expressions.evaluate_template(conc.cancel_in_progress, ctx))
            except ExpressionError as exc:
                job.annotations.append({"level": "failure", "message": f"Error evaluating concurrency: {exc}"})
                self.finish_job(job, "failure")
                return
            job.concurrency_group = self.store.groups.key(run.repo, group)
            admission = self.store.groups.enter(job.concurrency_group, f"job:{job.id}", cancel)
            for holder in admission.cancel:
                self._cancel_holder(holder, reason=f"concurrency group {group!r}")
            if not admission.started:
                job.waiting_concurrency = True
                self.store.emit("job.pending", **self.store.job_event_fields(job), concurrency_group=group)
                return
        self._queue_job(run, job, ctx)

    def _queue_job(self, run: Run, job: Job, ctx: dict[str, Any]) -> None:
        try:
            if job.spec.name:
                job.name = expressions.to_string(expressions.evaluate_template(job.spec.name, ctx))
            values = [expressions.evaluate_template(label, ctx) for label in job.spec.runs_on]
            job.labels = labels_from_value(values)
            job.timeout_minutes = float(
                expressions.to_number(expressions.evaluate_template(job.spec.timeout_minutes, ctx))
            )
            job.continue_on_error = expressions.truthy(expressions.evaluate_template(job.spec.continue_on_error, ctx))
        except (ExpressionError, TypeError, ValueError) as exc:
            job.annotations.append({"level": "failure", "message": f"Error preparing job {job.key!r}: {exc}"})
            self.finish_job(job, "failure")
            return
        job.status = "queued"
        job.queued_at = time.time()
        job.queued_seq = self.store.next_queue_seq()
        job.unmatched_since = time.monotonic()
        self.store.emit("job.queued", **self.store.job_event_fields(job), labels=list(job.labels), name=job.name)

    def finish_job(self, job: Job, conclusion: str, message: str | None = None) -> None:
        """Complete a job: free its runner and concurrency slot, log events. Caller holds the lock."""
        if job.status == "completed":
            return
        was_started = job.status == "in_progress"
        job.status = "completed"
        job.conclusion = conclusion
        job.result = "success" if conclusion == "failure" and job.continue_on_error else conclusion
        job.completed_at = time.time()
        job.waiting_concurrency = False
        if message:
            job.annotations.append({"level": "failure", "message": message})
        for step in job.steps:
            if step.status != "completed":
                step.conclusion = "cancelled" if step.status == "in_progress" else "skipped"
                step.status = "completed"
                step.completed_at = step.completed_at or job.completed_at
        runner = self.store.runners.get(job.runner_id) if job.runner_id is not None else None
        if runner is not None and runner.current_job == job.id:
            runner.current_job = None
        fields = self.store.job_event_fields(job)
        if conclusion == "skipped":
            self.store.emit("job.skipped", **fields, conclusion="skipped")
        else:
            self.store.emit(
                "job.completed",
                **fields,
                conclusion=conclusion,
                started=was_started,
                runner_id=job.runner_id,
                runner_name=job.runner_name,
                message=message or (job.annotations[-1]["message"] if job.annotations else None),
            )
        if job.concurrency_group:
            self._promote(self.store.groups.release(job.concurrency_group, f"job:{job.id}"))
        self._dirty.add(job.run_id)

    def _maybe_finish_run(self, run: Run) -> None:
        jobs = self.jobs_of(run)
        if run.status == "completed" or any(job.status != "completed" for job in jobs):
            return
        if any(job.conclusion == "failure" and not job.continue_on_error for job in jobs):
            conclusion = "failure"
        elif run.cancel_requested or any(job.conclusion == "cancelled" for job in jobs):
            conclusion = "cancelled"
        else:
            conclusion = "success"
        run.status = "completed"
        run.conclusion = conclusion
        run.updated_at = time.time()
        self.store.emit("run.completed", run_id=run.id, conclusion=conclusion)
        self._release_run_group(run)

    @staticmethod
    def _eval_text(text: str, ctx: Mapping[str, Any], fallback: str) -> str:
        try:
            return expressions.to_string(expressions.evaluate_template(text, ctx))
        except ExpressionError:
            return fallback
