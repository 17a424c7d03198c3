"""In-memory fakes of the services the drivers talk to, built on `httpx.MockTransport`.

Each fake speaks just enough of its service's HTTP API (the response shapes of the real
simulator, Prometheus, production app and webhook sink) for unit tests of the drivers and
Docker-free tests of the layers above them. Each exposes `.transport` and `.client(...)`,
which builds the matching driver on that transport::

    prometheus = FakePrometheus()
    prometheus.add_sample({"__name__": "up", "runner": "primary"}, 100.0, 1)
    client = prometheus.client(journal=journal)
    client.samples('up{runner="primary"}', 60)  # [(100.0, 1.0)]

Setting `answering = False` on any fake makes every request raise `httpx.ConnectError`, as a
service that is down or cut off would. The fakes are thread-safe (one lock per fake).
"""

from __future__ import annotations

import json
import math
import re
import threading
import time
from collections.abc import Callable
from typing import Any, ClassVar

import httpx

from harness.core.journal import Journal
from harness.drivers.github import GitHubClient
from harness.drivers.production import ProductionClient
from harness.drivers.prometheus import PrometheusClient
from harness.drivers.sink import SinkClient

Handler = Callable[..., httpx.Response]


def _json(payload: Any, status: int = 200) -> httpx.Response:
    return httpx.Response(status, json=payload)


def _iso(epoch_s: float | None) -> str | None:
    return None if epoch_s is None else time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(epoch_s))


class _FakeService:
    """Base of the fakes: a tiny router behind an `httpx.MockTransport`, and the `answering` switch."""

    base_url: ClassVar[str] = "http://fake.invalid"

    def __init__(self) -> None:
        self.answering = True
        self.requests: list[tuple[str, str]] = []
        self._lock = threading.RLock()
        self._routes: list[tuple[str, re.Pattern[str], Handler]] = []
        self.transport = httpx.MockTransport(self._handle)

    def _route(self, method: str, pattern: str, handler: Handler) -> None:
        """Serve `method` on paths fully matching regex `pattern`; named groups become keyword arguments."""
        self._routes.append((method, re.compile(pattern), handler))

    def _handle(self, request: httpx.Request) -> httpx.Response:
        with self._lock:
            self.requests.append((request.method, request.url.path))
            if not self.answering:
                raise httpx.ConnectError(f"{self.base_url} does not answer (fake)", request=request)
            for method, pattern, handler in self._routes:
                match = pattern.fullmatch(request.url.path)
                if match is not None and method == request.method:
                    return handler(request, **match.groupdict())
            return _json({"message": "Not Found"}, 404)


# --------------------------------------------------------------------------- Prometheus

_SELECTOR = re.compile(
    r"\s*(?P<name>[a-zA-Z_:][a-zA-Z0-9_:]*)?\s*(?:\{(?P<matchers>[^}]*)\})?\s*"
    r"(?:\[(?P<range>\d+)(?P<unit>[smh])\])?\s*"
)
_MATCHER = re.compile(
    r'\s*(?P<label>[a-zA-Z_][a-zA-Z0-9_]*)\s*(?P<op>=~|!~|!=|=)\s*"(?P<value>(?:[^"\\]|\\.)*)"\s*(?:,|$)'
)
_UNIT_S = {"s": 1, "m": 60, "h": 3600}
_LOOKBACK_S = 300.0

Matcher = tuple[str, str, str]
Labels = frozenset[tuple[str, str]]


def _format_value(value: float) -> str:
    """Prometheus's rendering of a sample value."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return str(int(value)) if value.is_integer() else repr(value)


def _parse_selector(text: str) -> tuple[list[Matcher], float | None]:
    """Label matchers (label, op, value) and the range in seconds (None for an instant selector)."""
    match = _SELECTOR.fullmatch(text)
    if match is None or (match["name"] is None and match["matchers"] is None):
        raise ValueError(f"the fake Prometheus only understands plain selectors, not {text!r}")
    matchers: list[Matcher] = []
    if match["name"] is not None:
        matchers.append(("__name__", "=", match["name"]))
    body = (match["matchers"] or "").strip()
    pos = 0
    while pos < len(body):
        found = _MATCHER.match(body, pos)
        if found is None:
            raise ValueError(f"bad label matcher at {body[pos:]!r} in {text!r}")
        matchers.append((found["label"], found["op"], re.sub(r"\\(.)", r"\1", found["value"])))
        pos = found.end()
    window = None if match["range"] is None else float(int(match["range"]) * _UNIT_S[match["unit"]])
    return matchers, window


def _matcher_holds(actual: str, op: str, value: str) -> bool:
    if op == "=":
        return actual == value
    if op == "!=":
        return actual != value
    found = re.fullmatch(value, actual) is not None
    return found if op == "=~" else not found


def _matches(labels: dict[str, str], matchers: list[Matcher]) -> bool:
    """True when the series' labels satisfy every matcher (a missing label is the empty string)."""
    return all(_matcher_holds(labels.get(label, ""), op, value) for label, op, value in matchers)


class FakePrometheus(_FakeService):
    """Prometheus holding series you add sample by sample.

    Answers `/api/v1/query` for a plain selector (`name{label="v", other=~"re"}`): an instant
    query returns each matching series' latest sample within 5 minutes of the evaluation time,
    a range selector `sel[Ns]` every sample in (time - N, time]. The evaluation time is the
    query's `time`, else `now`, else the newest stored sample. Also `/-/ready` (see `ready`),
    `/api/v1/alertmanagers` and `/api/v1/targets`.
    """

    base_url = "http://prometheus.fake"

    def __init__(self, now: float | None = None) -> None:
        super().__init__()
        self.now = now
        self.ready = True
        self.alertmanagers = 1
        self.targets: list[dict[str, Any]] = []
        self._series: dict[Labels, list[tuple[float, float]]] = {}
        self._route("GET", r"/api/v1/query", self._query)
        self._route("GET", r"/-/ready", self._ready)
        self._route("GET", r"/api/v1/alertmanagers", self._alertmanagers)
        self._route("GET", r"/api/v1/targets", self._targets)

    def client(self, *, journal: Journal | None = None, timeout: float = 10.0) -> PrometheusClient:
        """A PrometheusClient talking to this fake."""
        return PrometheusClient(self.base_url, timeout, journal=journal, transport=self.transport)

    def add_sample(self, selector_labels: dict[str, str], ts: float, value: float) -> None:
        """Store one sample (epoch seconds, value) of the series with these labels (including `__name__`)."""
        key: Labels = frozenset((str(k), str(v)) for k, v in selector_labels.items())
        with self._lock:
            samples = self._series.setdefault(key, [])
            samples.append((float(ts), float(value)))
            samples.sort()

    def _eval_time(self, request: httpx.Request) -> float:
        if "time" in request.url.params:
            return float(request.url.params["time"])
        if self.now is not None:
            return self.now
        newest = [samples[-1][0] for samples in self._series.values() if samples]
        return max(newest) if newest else time.time()

    def _query(self, request: httpx.Request) -> httpx.Response:
        try:
            matchers, window = _parse_selector(request.url.params.get("query", ""))
            at = self._eval_time(request)
        except ValueError as exc:
            return _json({"status": "error", "errorType": "bad_data", "error": str(exc)}, 400)
        result: list[dict[str, Any]] = []
        for key, samples in sorted(self._series.items(), key=lambda item: sorted(item[0])):
            labels = dict(key)
            if not _matches(labels, matchers):
                continue
            if window is not None:
                values = [[ts, _format_value(v)] for ts, v in samples if at - window < ts <= at]
                if values:
                    result.append({"metric": labels, "values": values})
            else:
                recent = [(ts, v) for ts, v in samples if at - _LOOKBACK_S < ts <= at]
                if recent:
                    result.append({"metric": labels, "value": [at, _format_value(recent[-1][1])]})
        kind = "vector" if window is None else "matrix"
        return _json({"status": "success", "data": {"resultType": kind, "result": result}})

    def _ready(self, request: httpx.Request) -> httpx.Response:
        if self.ready:
            return httpx.Response(200, text="Prometheus Server is Ready.\n")
        return httpx.Response(503, text="Service Unavailable")

    def _alertmanagers(self, request: httpx.Request) -> httpx.Response:
        active = [{"url": f"http://alertmanager-{i}:9093/api/v2/alerts"} for i in range(self.alertmanagers)]
        return _json({"status": "success", "data": {"activeAlertmanagers": active, "droppedAlertmanagers": []}})

    def _targets(self, request: httpx.Request) -> httpx.Response:
        data = {"activeTargets": [dict(t) for t in self.targets], "droppedTargets": []}
        return _json({"status": "success", "data": data})


# --------------------------------------------------------------------------- GitHub

_REPO = r"/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)"


class FakeGitHub(_FakeService):
    """The simulated GitHub's REST API for one repository, with state you set directly.

    Runs, jobs, job logs, the simulator's job detail, runners, secrets, variables and the
    event log (seq 1-based and dense, `after` returns seq > after). `dispatch` creates a
    queued run; `cancel` completes a run as cancelled (409 once it is completed). Nothing
    executes: move runs and jobs along with `set_run` / `set_job`.
    """

    base_url = "http://github.fake"

    def __init__(self, repo: str = "acme/app") -> None:
        super().__init__()
        self.repo = repo
        self.runs: dict[int, dict[str, Any]] = {}
        self.jobs: dict[int, dict[str, Any]] = {}
        self.logs: dict[int, str] = {}
        self.details: dict[int, dict[str, Any]] = {}
        self.runners: list[dict[str, Any]] = []
        self.events: list[dict[str, Any]] = []
        self.secrets: dict[str, str] = {}
        self.variables: dict[str, str] = {}
        self.config: dict[str, Any] = {}
        self.workflows: list[str] = [".github/workflows/deploy.yml"]
        self.dispatches: list[dict[str, Any]] = []
        self._next_id = 1
        self._routes_github()

    def client(self, *, journal: Journal | None = None, timeout: float = 10.0) -> GitHubClient:
        """A GitHubClient for this fake's repository."""
        return GitHubClient(self.base_url, self.repo, timeout=timeout, journal=journal, transport=self.transport)

    # ---- state -------------------------------------------------------------
    def _new_id(self) -> int:
        self._next_id += 1
        return self._next_id - 1

    def emit(self, event_type: str, **fields: Any) -> dict[str, Any]:
        """Append an event (seq, ts_ms, type, fields) to the simulator's event log."""
        with self._lock:
            event = {"seq": len(self.events) + 1, "ts_ms": int(time.time() * 1000), "type": event_type, **fields}
            self.events.append(event)
            return event

    def add_run(
        self,
        workflow: str = "deploy.yml",
        inputs: dict[str, Any] | None = None,
        ref: str = "main",
        status: str = "queued",
        conclusion: str | None = None,
    ) -> int:
        """Create a workflow run (emits run.queued) and return its id."""
        with self._lock:
            run_id = self._new_id()
            now = time.time()
            path = workflow if "/" in workflow else f".github/workflows/{workflow}"
            self.runs[run_id] = {
                "id": run_id,
                "name": workflow.rsplit("/", 1)[-1].rsplit(".", 1)[0],
                "display_title": workflow,
                "path": path,
                "head_branch": ref,
                "run_number": len(self.runs) + 1,
                "event": "workflow_dispatch",
                "status": status,
                "conclusion": conclusion,
                "created_at": _iso(now),
                "updated_at": _iso(now),
                "inputs": dict(inputs or {}),
            }
            self.emit("run.queued", run_id=run_id, repo=self.repo, workflow=path, ref=ref, inputs=dict(inputs or {}))
            return run_id

    def set_run(self, run_id: int, **fields: Any) -> None:
        """Update a run's fields (e.g. status, conclusion); emits run.completed when it completes."""
        with self._lock:
            run = self.runs[run_id]
            was_completed = run["status"] == "completed"
            run.update(fields, updated_at=_iso(time.time()))
            if run["status"] == "completed" and not was_completed:
                self.emit("run.completed", run_id=run_id, conclusion=run["conclusion"])

    def add_job(
        self,
        run_id: int,
        name: str,
        status: str = "queued",
        conclusion: str | None = None,
        labels: list[str] | None = None,
        runner_name: str | None = None,
    ) -> int:
        """Add a job to a run and return its id (its log starts empty)."""
        with self._lock:
            job_id = self._new_id()
            self.jobs[job_id] = {
                "id": job_id,
                "run_id": run_id,
                "name": name,
                "job_key": name,
                "status": status,
                "conclusion": conclusion,
                "created_at": _iso(time.time()),
                "started_at": None,
                "completed_at": None,
                "labels": list(labels or []),
                "runner_id": None,
                "runner_name": runner_name,
                "steps": [],
            }
            self.logs[job_id] = ""
            return job_id

    def set_job(self, job_id: int, **fields: Any) -> None:
        """Update a job's fields (e.g. status, conclusion, runner_name)."""
        with self._lock:
            self.jobs[job_id].update(fields)

    def append_log(self, job_id: int, text: str) -> None:
        """Append a line to a job's log."""
        with self._lock:
            self.logs[job_id] = self.logs.get(job_id, "") + text.rstrip("\n") + "\n"

    def set_job_detail(self, job_id: int, **fields: Any) -> None:
        """Set fields of the simulator's job detail (outputs, annotations, summary, result...)."""
        with self._lock:
            self.details.setdefault(job_id, {}).update(fields)

    def add_runner(self, name: str, labels: list[str], online: bool = True, busy: bool = False) -> int:
        """Register a self-hosted runner and return its id."""
        with self._lock:
            runner_id = len(self.runners) + 1
            self.runners.append(
                {
                    "id": runner_id,
                    "name": name,
                    "os": "Linux",
                    "status": "online" if online else "offline",
                    "busy": busy,
                    "labels": [{"id": i + 1, "name": label, "type": "custom"} for i, label in enumerate(labels)],
                }
            )
            self.emit("runner.registered", runner_id=runner_id, name=name, labels=list(labels))
            return runner_id

    def set_runner(self, name: str, *, online: bool | None = None, busy: bool | None = None) -> None:
        """Change a runner's status (emits runner.online / runner.offline) or busy flag."""
        with self._lock:
            runner = next(r for r in self.runners if r["name"] == name)
            if busy is not None:
                runner["busy"] = busy
            if online is not None and (runner["status"] == "online") != online:
                runner["status"] = "online" if online else "offline"
                self.emit("runner.online" if online else "runner.offline", runner_id=runner["id"], name=name)

    # ---- HTTP --------------------------------------------------------------
    def _routes_github(self) -> None:
        route = self._route
        route("GET", r"/healthz", lambda r: _json({"ok": True}))
        route("GET", r"/_sim/config", lambda r: _json(self.config))
        route("PUT", r"/_sim/config", self._put_config)
        route("GET", r"/_sim/events", self._events)
        route("GET", r"/_sim/jobs/(?P<job_id>\d+)", self._job_detail)
        route("PUT", r"/_sim/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)", self._put_repo)
        route("PUT", r"/_sim/repos/(?P<owner>[^/]+)/(?P<name>[^/]+)/secrets/(?P<secret>[^/]+)", self._put_secret)
        route("POST", _REPO + r"/actions/workflows/(?P<workflow>[^/]+)/dispatches", self._dispatch)
        route("GET", _REPO + r"/actions/runs/(?P<run_id>\d+)", self._run)
        route("GET", _REPO + r"/actions/runs/(?P<run_id>\d+)/jobs", self._jobs)
        route("POST", _REPO + r"/actions/runs/(?P<run_id>\d+)/cancel", self._cancel)
        route("GET", _REPO + r"/actions/jobs/(?P<job_id>\d+)", self._job)
        route("GET", _REPO + r"/actions/jobs/(?P<job_id>\d+)/logs", self._logs)
        route("GET", _REPO + r"/actions/runners", self._runners)
        route("POST", _REPO + r"/actions/variables", self._create_variable)

    def _ours(self, owner: str, name: str) -> bool:
        return f"{owner}/{name}".casefold() == self.repo.casefold()

    def _put_config(self, request: httpx.Request) -> httpx.Response:
        self.config.update(json.loads(request.content or b"{}"))
        self.emit("sim.config", **self.config)
        return _json(self.config)

    def _events(self, request: httpx.Request) -> httpx.Response:
        after = int(request.url.params.get("after", "0"))
        limit = int(request.url.params.get("limit", "0")) or None
        events = [dict(e) for e in self.events if e["seq"] > after]
        return _json({"events": events[:limit] if limit else events})

    def _job_detail(self, request: httpx.Request, job_id: str) -> httpx.Response:
        job = self.jobs.get(int(job_id))
        if job is None:
            return _json({"message": "Not Found"}, 404)
        detail = {
            "id": job["id"],
            "run_id": job["run_id"],
            "job_key": job["job_key"],
            "status": job["status"],
            "conclusion": job["conclusion"],
            "result": job["conclusion"],
            "outputs": {},
            "annotations": [],
            "summary": "",
            "labels": list(job["labels"]),
            "runner_name": job["runner_name"],
        }
        detail.update(self.details.get(job["id"], {}))
        return _json(detail)

    def _put_repo(self, request: httpx.Request, owner: str, name: str) -> httpx.Response:
        self.emit("repo.updated", repo=f"{owner}/{name}")
        return _json({"workflows": list(self.workflows)})

    def _put_secret(self, request: httpx.Request, owner: str, name: str, secret: str) -> httpx.Response:
        value = json.loads(request.content or b"{}").get("value")
        if not isinstance(value, str):
            return _json({"message": 'body must be {"value": "..."}'}, 422)
        self.secrets[secret] = value
        return httpx.Response(204)

    def _dispatch(self, request: httpx.Request, owner: str, name: str, workflow: str) -> httpx.Response:
        if not self._ours(owner, name):
            return _json({"message": "Not Found"}, 404)
        body = json.loads(request.content or b"{}")
        inputs = body.get("inputs") or {}
        if not isinstance(inputs, dict):
            return _json({"message": "inputs must be an object"}, 422)
        ref = str(body.get("ref") or "main")
        run_id = self.add_run(workflow, inputs, ref)
        self.dispatches.append({"workflow": workflow, "inputs": dict(inputs), "ref": ref, "run_id": run_id})
        return _json(
            {
                "workflow_run_id": run_id,
                "run_url": f"{self.base_url}/repos/{self.repo}/actions/runs/{run_id}",
                "html_url": f"{self.base_url}/{self.repo}/actions/runs/{run_id}",
            }
        )

    def _run(self, request: httpx.Request, owner: str, name: str, run_id: str) -> httpx.Response:
        run = self.runs.get(int(run_id))
        if run is None or not self._ours(owner, name):
            return _json({"message": "Not Found"}, 404)
        return _json(run)

    def _jobs(self, request: httpx.Request, owner: str, name: str, run_id: str) -> httpx.Response:
        if int(run_id) not in self.runs or not self._ours(owner, name):
            return _json({"message": "Not Found"}, 404)
        jobs = [job for job in self.jobs.values() if job["run_id"] == int(run_id)]
        return _json({"total_count": len(jobs), "jobs": jobs})

    def _cancel(self, request: httpx.Request, owner: str, name: str, run_id: str) -> httpx.Response:
        run = self.runs.get(int(run_id))
        if run is None or not self._ours(owner, name):
            return _json({"message": "Not Found"}, 404)
        if run["status"] == "completed":
            return _json({"message": "Cannot cancel a workflow run that is completed."}, 409)
        self.emit("run.cancel_requested", run_id=run["id"], reason="api")
        for job in self.jobs.values():
            if job["run_id"] == run["id"] and job["status"] != "completed":
                job.update(status="completed", conclusion="cancelled", completed_at=_iso(time.time()))
        self.set_run(run["id"], status="completed", conclusion="cancelled")
        return _json({}, 202)

    def _job(self, request: httpx.Request, owner: str, name: str, job_id: str) -> httpx.Response:
        job = self.jobs.get(int(job_id))
        if job is None or not self._ours(owner, name):
            return _json({"message": "Not Found"}, 404)
        return _json(job)

    def _logs(self, request: httpx.Request, owner: str, name: str, job_id: str) -> httpx.Response:
        if int(job_id) not in self.jobs or not self._ours(owner, name):
            return _json({"message": "Not Found"}, 404)
        return httpx.Response(200, text=self.logs.get(int(job_id), ""))

    def _runners(self, request: httpx.Request, owner: str, name: str) -> httpx.Response:
        if not self._ours(owner, name):
            return _json({"message": "Not Found"}, 404)
        return _json({"total_count": len(self.runners), "runners": self.runners})

    def _create_variable(self, request: httpx.Request, owner: str, name: str) -> httpx.Response:
        body = json.loads(request.content or b"{}")
        if body.get("name") in self.variables:
            return _json({"message": "Variable already exists"}, 409)
        self.variables[str(body.get("name"))] = str(body.get("value"))
        return _json({}, 201)


# --------------------------------------------------------------------------- production


class FakeProduction(_FakeService):
    """The production app: `/version` reports `version`, `/health` answers `status` (200 = healthy)."""

    base_url = "http://production.fake"

    def __init__(self, version: str | None = "1.0.0", status: int = 200) -> None:
        super().__init__()
        self.version = version
        self.status = status
        self._route("GET", r"/version", lambda r: _json({"version": self.version}))
        self._route("GET", r"/health", self._health)

    def client(self, *, journal: Journal | None = None, timeout: float = 5.0) -> ProductionClient:
        """A ProductionClient talking to this fake."""
        return ProductionClient(self.base_url, timeout, journal=journal, transport=self.transport)

    def _health(self, request: httpx.Request) -> httpx.Response:
        state = "ok" if self.status == 200 else "failing"
        return _json({"status": state, "version": self.version}, self.status)


# --------------------------------------------------------------------------- webhook sink


class FakeSink(_FakeService):
    """The webhook sink: records every POST (or `add`) and serves `/_sink/messages?after=<seq>`."""

    base_url = "http://sink.fake"

    def __init__(self) -> None:
        super().__init__()
        self.messages: list[dict[str, Any]] = []
        self._route("GET", r"/healthz", lambda r: _json({"ok": True}))
        self._route("GET", r"/_sink/messages", self._messages)
        self._route("POST", r"/.*", self._receive)

    def client(self, *, journal: Journal | None = None, timeout: float = 5.0) -> SinkClient:
        """A SinkClient talking to this fake."""
        return SinkClient(self.base_url, timeout, journal=journal, transport=self.transport)

    def add(self, path: str, body: Any, received_ms: int | None = None) -> dict[str, Any]:
        """Record a message as if it had been POSTed to `path` (seq starts at 0)."""
        with self._lock:
            message = {
                "seq": len(self.messages),
                "received_ms": int(time.time() * 1000) if received_ms is None else received_ms,
                "path": path,
                "body": body,
            }
            self.messages.append(message)
            return message

    def _messages(self, request: httpx.Request) -> httpx.Response:
        try:
            after = int(request.url.params.get("after", "-1"))
        except ValueError:
            return _json({"error": "after must be an integer sequence number"}, 400)
        return _json({"messages": [dict(m) for m in self.messages if m["seq"] > after]})

    def _receive(self, request: httpx.Request) -> httpx.Response:
        try:
            body: Any = json.loads(request.content or b"null")
        except ValueError:
            body = {"raw": request.content.decode(errors="replace")}
        return _json({"seq": self.add(request.url.path, body)["seq"]})
