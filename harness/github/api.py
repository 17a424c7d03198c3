"""HTTP handlers: harness-facing /_sim, GitHub-REST-shaped /repos, runner-facing /_runner."""

from __future__ import annotations

import time
from typing import Any

from harness.github import views
from harness.github.config import SimConfig
from harness.github.engine import Engine
from harness.github.errors import ApiError
from harness.github.monitor import Monitor
from harness.github.routing import Request, Response, Router
from harness.github.runnerops import RunnerService
from harness.github.state import Job, Repo, Run, Store

RUN_STATUSES = ("queued", "in_progress", "completed", "pending", "waiting", "requested")


class SimApp:
    """The whole control plane behind one `handle(request)` call."""

    def __init__(self, config: SimConfig | None = None, public_url: str = "http://localhost:8000") -> None:
        self.store = Store(config or SimConfig())
        self.engine = Engine(self.store, public_url)
        self.runners = RunnerService(self.engine)
        self.monitor = Monitor(self.engine)
        self.router = Router()
        self._routes()

    def handle(self, request: Request) -> Response:
        return self.router.dispatch(request)

    def _routes(self) -> None:
        add = self.router.add
        add("GET", "/healthz", lambda r: Response.json({"ok": True}))
        add("GET", "/_sim/config", lambda r: Response.json(self.store.config.to_dict()))
        add("PUT", "/_sim/config", self.put_config)
        add("GET", "/_sim/events", self.get_events)
        add("GET", "/_sim/state", self.get_state)
        add("GET", "/_sim/jobs/{job_id:int}", self.get_job_detail)
        add("PUT", "/_sim/repos/{owner}/{repo}", self.put_repo)
        add("PUT", "/_sim/repos/{owner}/{repo}/secrets/{name}", self.put_secret)
        add("DELETE", "/_sim/repos/{owner}/{repo}/secrets/{name}", self.delete_secret)
        prefix = "/repos/{owner}/{repo}"
        add("GET", f"{prefix}/tarball/{{ref:path}}", self.get_tarball)
        add("GET", f"{prefix}/tarball", self.get_tarball)
        add("GET", f"{prefix}/actions/workflows", self.list_workflows)
        add("GET", f"{prefix}/actions/workflows/{{workflow}}", self.get_workflow)
        add("POST", f"{prefix}/actions/workflows/{{workflow}}/dispatches", self.dispatch)
        add("GET", f"{prefix}/actions/workflows/{{workflow}}/runs", self.list_runs)
        add("GET", f"{prefix}/actions/runs", self.list_runs)
        add("GET", f"{prefix}/actions/runs/{{run_id:int}}", self.get_run)
        add("GET", f"{prefix}/actions/runs/{{run_id:int}}/jobs", self.list_jobs)
        add("POST", f"{prefix}/actions/runs/{{run_id:int}}/cancel", self.cancel_run)
        add("GET", f"{prefix}/actions/jobs/{{job_id:int}}", self.get_job)
        add("GET", f"{prefix}/actions/jobs/{{job_id:int}}/logs", self.get_job_logs)
        add("GET", f"{prefix}/check-runs/{{job_id:int}}/annotations", self.get_annotations)
        add("GET", f"{prefix}/actions/runners", self.list_runners)
        add("GET", f"{prefix}/actions/variables", self.list_variables)
        add("POST", f"{prefix}/actions/variables", self.create_variable)
        add("GET", f"{prefix}/actions/variables/{{name}}", self.get_variable)
        add("PATCH", f"{prefix}/actions/variables/{{name}}", self.update_variable)
        add("DELETE", f"{prefix}/actions/variables/{{name}}", self.delete_variable)
        add("POST", "/_runner/register", self.runner_register)
        add("POST", "/_runner/{runner_id:int}/heartbeat", self.runner_heartbeat)
        add("POST", "/_runner/{runner_id:int}/acquire", self.runner_acquire)
        add("DELETE", "/_runner/{runner_id:int}", self.runner_deregister)
        add("POST", "/_runner/jobs/{job_id:int}/renew", self.job_renew)
        add("POST", "/_runner/jobs/{job_id:int}/steps/{number:int}/start", self.step_start)
        add("POST", "/_runner/jobs/{job_id:int}/steps/{number:int}/complete", self.step_complete)
        add("POST", "/_runner/jobs/{job_id:int}/logs", self.job_logs)
        add("POST", "/_runner/jobs/{job_id:int}/complete", self.job_complete)

    # ------------------------------------------------------------ helpers

    def _repo(self, owner: str, repo: str) -> Repo:
        return self.engine.require_repo(owner, repo)

    def _run(self, repo: Repo, run_id: int) -> Run:
        run = self.store.runs.get(run_id)
        if run is None or run.repo != repo.full_name:
            raise ApiError(404, "Not Found")
        return run

    def _job(self, repo: Repo, job_id: int) -> tuple[Job, Run]:
        job = self.store.jobs.get(job_id)
        if job is None:
            raise ApiError(404, "Not Found")
        return job, self._run(repo, job.run_id)

    # ------------------------------------------------------------ /_sim

    def put_config(self, request: Request) -> Response:
        with self.store.lock:
            try:
                self.store.config.update(request.json())
            except ValueError as exc:
                raise ApiError(422, str(exc)) from exc
            self.store.emit("sim.config", **self.store.config.to_dict())
            return Response.json(self.store.config.to_dict())

    def get_events(self, request: Request) -> Response:
        after = request.query_int("after", 0)
        wait = min(request.query_float("wait", 0.0), 30.0)
        deadline = time.monotonic() + wait
        with self.store.lock:
            while len(self.store.events) <= after and time.monotonic() < deadline:
                self.store.cond.wait(deadline - time.monotonic())
            return Response.json({"events": self.store.events_after(after, request.query_int("limit", 0) or None)})

    def get_state(self, request: Request) -> Response:
        with self.store.lock:
            return Response.json(
                {
                    "config": self.store.config.to_dict(),
                    "runners": [views.runner_json(r) for r in self.store.runners.values()],
                    "concurrency_groups": self.store.groups.snapshot(),
                    "last_seq": len(self.store.events),
                }
            )

    def get_job_detail(self, request: Request, job_id: int) -> Response:
        with self.store.lock:
            job = self.store.jobs.get(job_id)
            if job is None:
                raise ApiError(404, "Not Found")
            return Response.json(
                {
                    "id": job.id,
                    "run_id": job.run_id,
                    "job_key": job.key,
                    "status": job.status,
                    "conclusion": job.conclusion,
                    "result": job.result,
                    "outputs": job.outputs,
                    "annotations": job.annotations,
                    "summary": job.summary,
                    "labels": list(job.labels),
                    "runner_name": job.runner_name,
                }
            )

    def put_repo(self, request: Request, owner: str, repo: str) -> Response:
        paths = self.engine.put_repo(owner, repo, request.body)
        return Response.json({"workflows": paths})

    def put_secret(self, request: Request, owner: str, repo: str, name: str) -> Response:
        value = request.json().get("value")
        if not isinstance(value, str):
            raise ApiError(422, 'body must be {"value": "..."}')
        self.engine.set_secret(owner, repo, name, value)
        return Response(204)

    def delete_secret(self, request: Request, owner: str, repo: str, name: str) -> Response:
        self.engine.set_secret(owner, repo, name, None)
        return Response(204)

    # ------------------------------------------------------------ GitHub REST

    def get_tarball(self, request: Request, owner: str, repo: str, ref: str = "main") -> Response:
        with self.store.lock:
            data = self._repo(owner, repo).tarball
        return Response(
            200, data, "application/x-gzip", {"Content-Disposition": f"attachment; filename={owner}-{repo}.tar.gz"}
        )

    def list_workflows(self, request: Request, owner: str, repo: str) -> Response:
        with self.store.lock:
            record = self._repo(owner, repo)
            flows = [views.workflow_json(record, path, request.base_url) for path in sorted(record.workflows)]
            return Response.json({"total_count": len(flows), "workflows": flows})

    def get_workflow(self, request: Request, owner: str, repo: str, workflow: str) -> Response:
        with self.store.lock:
            record = self._repo(owner, repo)
            spec = self.engine.find_workflow(record, workflow)
            return Response.json(views.workflow_json(record, spec.path, request.base_url))

    def dispatch(self, request: Request, owner: str, repo: str, workflow: str) -> Response:
        body = request.json()
        given = body.get("inputs") or {}
        if not isinstance(given, dict):
            raise ApiError(422, "inputs must be an object")
        run = self.engine.dispatch(
            owner, repo, workflow, str(body.get("ref") or ""), given, actor=str(body.get("actor") or "harness")
        )
        base = request.base_url
        return Response.json(
            {
                "workflow_run_id": run.id,
                "run_url": f"{base}/repos/{run.repo}/actions/runs/{run.id}",
                "html_url": f"{base}/{run.repo}/actions/runs/{run.id}",
            }
        )

    def list_runs(self, request: Request, owner: str, repo: str, workflow: str | None = None) -> Response:
        with self.store.lock:
            record = self._repo(owner, repo)
            runs = [r for r in self.store.runs.values() if r.repo == record.full_name]
            if workflow is not None:
                spec = self.engine.find_workflow(record, workflow)
                runs = [r for r in runs if r.workflow.path == spec.path]
            runs = self._filter_runs(runs, request)
            runs.sort(key=lambda r: r.id, reverse=True)
            per_page = max(1, min(request.query_int("per_page", 30), 100))
            page = max(1, request.query_int("page", 1))
            chunk = runs[(page - 1) * per_page : page * per_page]
            return Response.json(
                {
                    "total_count": len(runs),
                    "workflow_runs": [views.run_json(r, record, request.base_url) for r in chunk],
                }
            )

    @staticmethod
    def _filter_runs(runs: list[Run], request: Request) -> list[Run]:
        status = request.query.get("status")
        if status:
            if status in RUN_STATUSES:
                runs = [r for r in runs if r.status == status]
            else:
                runs = [r for r in runs if r.conclusion == status]
        if request.query.get("event"):
            runs = [r for r in runs if r.event == request.query["event"]]
        if request.query.get("branch"):
            runs = [r for r in runs if r.ref.removeprefix("refs/heads/") == request.query["branch"]]
        return runs

    def get_run(self, request: Request, owner: str, repo: str, run_id: int) -> Response:
        with self.store.lock:
            record = self._repo(owner, repo)
            return Response.json(views.run_json(self._run(record, run_id), record, request.base_url))

    def list_jobs(self, request: Request, owner: str, repo: str, run_id: int) -> Response:
        with self.store.lock:
            record = self._repo(owner, repo)
            run = self._run(record, run_id)
            jobs = [views.job_json(j, run, record, request.base_url) for j in self.engine.jobs_of(run)]
            return Response.json({"total_count": len(jobs), "jobs": jobs})

    def cancel_run(self, request: Request, owner: str, repo: str, run_id: int) -> Response:
        self.engine.cancel_run(owner, repo, run_id)
        return Response.json({}, status=202)

    def get_job(self, request: Request, owner: str, repo: str, job_id: int) -> Response:
        with self.store.lock:
            record = self._repo(owner, repo)
            job, run = self._job(record, job_id)
            return Response.json(views.job_json(job, run, record, request.base_url))

    def get_job_logs(self, request: Request, owner: str, repo: str, job_id: int) -> Response:
        with self.store.lock:
            job, _ = self._job(self._repo(owner, repo), job_id)
            return Response.text(views.job_log_text(job))

    def get_annotations(self, request: Request, owner: str, repo: str, job_id: int) -> Response:
        with self.store.lock:
            job, _ = self._job(self._repo(owner, repo), job_id)
            return Response.json(views.annotations_json(job))

    def list_runners(self, request: Request, owner: str, repo: str) -> Response:
        with self.store.lock:
            self._repo(owner, repo)
            runners = [views.runner_json(r) for r in sorted(self.store.runners.values(), key=lambda r: r.id)]
            return Response.json({"total_count": len(runners), "runners": runners})

    def _variable_json(self, repo: Repo, name: str) -> dict[str, Any]:
        return {"name": name, "value": repo.variables[name]}

    def list_variables(self, request: Request, owner: str, repo: str) -> Response:
        with self.store.lock:
            record = self._repo(owner, repo)
            items = [self._variable_json(record, n) for n in sorted(record.variables)]
            return Response.json({"total_count": len(items), "variables": items})

    def create_variable(self, request: Request, owner: str, repo: str) -> Response:
        body = request.json()
        name, value = body.get("name"), body.get("value")
        if not isinstance(name, str) or not name or not isinstance(value, str):
            raise ApiError(422, "name and value are required strings")
        with self.store.lock:
            if name in self._repo(owner, repo).variables:
                raise ApiError(409, f"Variable {name} already exists")
            self.engine.set_variable(owner, repo, name, value)
        return Response.json({}, status=201)

    def get_variable(self, request: Request, owner: str, repo: str, name: str) -> Response:
        with self.store.lock:
            record = self._repo(owner, repo)
            if name not in record.variables:
                raise ApiError(404, "Not Found")
            return Response.json(self._variable_json(record, name))

    def update_variable(self, request: Request, owner: str, repo: str, name: str) -> Response:
        value = request.json().get("value")
        if not isinstance(value, str):
            raise ApiError(422, "value is required")
        with self.store.lock:
            if name not in self._repo(owner, repo).variables:
                raise ApiError(404, "Not Found")
            self.engine.set_variable(owner, repo, name, value)
        return Response(204)

    def delete_variable(self, request: Request, owner: str, repo: str, name: str) -> Response:
        self.engine.set_variable(owner, repo, name, None)
        return Response(204)

    # ------------------------------------------------------------ /_runner

    def runner_register(self, request: Request) -> Response:
        body = request.json()
        labels = body.get("labels") or []
        if isinstance(labels, str):
            labels = labels.split(",")
        runner = self.runners.register(str(body.get("name") or ""), [str(x) for x in labels])
        config = self.store.config
        return Response.json(
            {
                "runner_id": runner.id,
                "session": runner.session,
                "labels": list(runner.labels),
                "heartbeat_timeout_s": config.heartbeat_timeout_s,
                "lease_timeout_s": config.lease_timeout_s,
            },
            status=201,
        )

    def runner_heartbeat(self, request: Request, runner_id: int) -> Response:
        return Response.json(self.runners.heartbeat(runner_id, request.json().get("session")))

    def runner_acquire(self, request: Request, runner_id: int) -> Response:
        body = request.json()
        wait = float(body.get("wait_s", self.store.config.acquire_wait_s))
        payload = self.runners.acquire(runner_id, body.get("session"), wait, request.base_url)
        return Response(204) if payload is None else Response.json(payload)

    def runner_deregister(self, request: Request, runner_id: int) -> Response:
        self.runners.deregister(runner_id)
        return Response(204)

    @staticmethod
    def _token(body: dict[str, Any]) -> str:
        token = body.get("token")
        if not isinstance(token, str) or not token:
            raise ApiError(401, "lease token required")
        return token

    def job_renew(self, request: Request, job_id: int) -> Response:
        return Response.json(self.runners.renew(job_id, self._token(request.json())))

    def step_start(self, request: Request, job_id: int, number: str) -> Response:
        body = request.json()
        return Response.json(self.runners.step_started(job_id, self._token(body), int(number), body.get("name")))

    def step_complete(self, request: Request, job_id: int, number: str) -> Response:
        body = request.json()
        return Response.json(
            self.runners.step_completed(
                job_id,
                self._token(body),
                int(number),
                str(body.get("outcome")),
                str(body.get("conclusion")),
                body.get("name"),
            )
        )

    def job_logs(self, request: Request, job_id: int) -> Response:
        body = request.json()
        lines = body.get("lines") or []
        if not isinstance(lines, list):
            raise ApiError(422, "lines must be a list")
        return Response.json(
            self.runners.append_log(job_id, self._token(body), [x for x in lines if isinstance(x, dict)])
        )

    def job_complete(self, request: Request, job_id: int) -> Response:
        body = request.json()
        return Response.json(
            self.runners.complete(
                job_id,
                self._token(body),
                str(body.get("conclusion")),
                body.get("outputs") or {},
                [a for a in body.get("annotations") or [] if isinstance(a, dict)],
                str(body.get("summary") or ""),
            )
        )
