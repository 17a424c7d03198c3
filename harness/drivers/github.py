"""Client of the (simulated or real) GitHub REST API, plus the simulator's harness endpoints."""

from __future__ import annotations

from typing import Any

import httpx

from harness.core.errors import ConfigError, TopologyError
from harness.core.journal import Journal
from harness.drivers.recording import HttpDriver


class GitHubClient(HttpDriver):
    """Talks to GitHub's REST API shape for one repository.

    With a `journal`, what it observes is journalled: `github.run`, `github.jobs`, `github.dispatch`,
    `github.cancel`, `github.secret_set` (the name only, never the value) on every call, and the
    polled `github.job_log`, `github.job` and `github.runners` only when they changed. `events` is
    not journalled here (a feed elsewhere journals the event log).
    """

    def __init__(
        self,
        base_url: str,
        repo: str = "acme/app",
        token: str = "dch-token",
        timeout: float = 10.0,
        *,
        journal: Journal | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        super().__init__(
            base_url,
            timeout,
            journal,
            transport,
            headers={"Authorization": f"Bearer {token}", "Accept": "application/vnd.github+json"},
        )
        self.repo = repo

    def _json(self, response: httpx.Response) -> Any:
        if response.status_code >= 400:
            raise TopologyError(
                f"GitHub API {response.request.method} {response.request.url.path} -> "
                f"{response.status_code}: {response.text[:500]}"
            )
        return response.json() if response.content else None

    # --- simulator set-up (harness side) ---
    def upload_repository(self, tarball: bytes) -> list[str]:
        """Store the pipeline repository; the simulator validates its workflows (422 = bad workflow)."""
        response = self._http.put(
            f"/_sim/repos/{self.repo}", content=tarball, headers={"Content-Type": "application/gzip"}
        )
        if response.status_code == 422:
            raise ConfigError(f"the pipeline's workflows are invalid or use unsupported constructs: {response.text}")
        return list(self._json(response).get("workflows", []))

    def set_secret(self, name: str, value: str) -> None:
        """Create or update a repository secret."""
        self._json(self._http.put(f"/_sim/repos/{self.repo}/secrets/{name}", json={"value": value}))
        self._recorder.record("github.secret_set", name=name)

    def set_variable(self, name: str, value: str) -> None:
        """Create a repository variable (the `vars` context)."""
        self._json(self._http.post(f"/repos/{self.repo}/actions/variables", json={"name": name, "value": value}))

    def configure(self, **timers: float) -> None:
        """Change the simulator's timers at run time."""
        self._json(self._http.put("/_sim/config", json=timers))

    def events(self, after: int = -1) -> list[dict[str, Any]]:
        """The simulator's event log (millisecond timestamps), entries with seq > `after`."""
        return list(self._json(self._http.get("/_sim/events", params={"after": after}))["events"])

    # --- GitHub REST shape ---
    def dispatch(self, workflow: str, inputs: dict[str, str], ref: str = "main") -> int:
        """Trigger a workflow_dispatch run and return its run id."""
        response = self._http.post(
            f"/repos/{self.repo}/actions/workflows/{workflow}/dispatches",
            json={"ref": ref, "inputs": inputs, "return_run_details": True},
        )
        run_id = int(self._json(response)["workflow_run_id"])
        self._recorder.record("github.dispatch", workflow=workflow, inputs=inputs, run_id=run_id)
        return run_id

    def run(self, run_id: int) -> dict[str, Any]:
        """One workflow run."""
        run = dict(self._json(self._http.get(f"/repos/{self.repo}/actions/runs/{run_id}")))
        self._recorder.record("github.run", run_id=run_id, run=run)
        return run

    def jobs(self, run_id: int) -> list[dict[str, Any]]:
        """The jobs of a workflow run."""
        jobs = list(self._json(self._http.get(f"/repos/{self.repo}/actions/runs/{run_id}/jobs"))["jobs"])
        self._recorder.record("github.jobs", run_id=run_id, jobs=jobs)
        return jobs

    def job_logs(self, job_id: int) -> str:
        """The (masked) log of one job ("" when GitHub has none to give; that is not journalled)."""
        response = self._http.get(f"/repos/{self.repo}/actions/jobs/{job_id}/logs")
        if response.status_code >= 400:
            return ""
        log = response.text
        self._recorder.record_if_changed(("job_log", job_id), log, "github.job_log", job_id=job_id, log=log)
        return log

    def job_detail(self, job_id: int) -> dict[str, Any]:
        """Simulator view of a job: outputs, annotations, step summary."""
        job = dict(self._json(self._http.get(f"/_sim/jobs/{job_id}")))
        self._recorder.record_if_changed(("job", job_id), job, "github.job", job_id=job_id, job=job)
        return job

    def cancel(self, run_id: int) -> None:
        """Request cancellation of a run."""
        response = self._http.post(f"/repos/{self.repo}/actions/runs/{run_id}/cancel")
        self._recorder.record("github.cancel", run_id=run_id, status_code=response.status_code)
        if response.status_code not in (202, 409):
            self._json(response)

    def runners(self) -> list[dict[str, Any]]:
        """Self-hosted runners with status and labels."""
        runners = list(self._json(self._http.get(f"/repos/{self.repo}/actions/runners"))["runners"])
        self._recorder.record_if_changed("runners", runners, "github.runners", runners=runners)
        return runners

    def healthy(self) -> bool:
        """True when the API answers."""
        try:
            return self._http.get("/healthz").status_code == 200
        except httpx.HTTPError:
            return False
