"""Build expression contexts (github, needs, inputs, vars, ...) from control-plane state."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from harness.github.expressions import Status
from harness.github.state import Job, Repo, Run


def full_ref(ref: str) -> str:
    """'main' -> 'refs/heads/main'; 'v1.2' stays a branch; 'refs/...' unchanged."""
    return ref if ref.startswith("refs/") else f"refs/heads/{ref}"


def ref_name(ref: str) -> str:
    """'refs/heads/main' -> 'main'."""
    for prefix in ("refs/heads/", "refs/tags/"):
        if ref.startswith(prefix):
            return ref[len(prefix) :]
    return ref


def github_context(run: Run, repo: Repo, base_url: str, job_key: str = "", token: str = "") -> dict[str, Any]:
    """The `github` context of a job of `run`; URLs point at `base_url` (this server)."""
    ref = full_ref(run.ref)
    base = base_url.rstrip("/")
    return {
        "repository": repo.full_name,
        "repository_owner": repo.owner,
        "repository_id": str(repo.id),
        "ref": ref,
        "ref_name": ref_name(ref),
        "ref_type": "tag" if ref.startswith("refs/tags/") else "branch",
        "sha": run.sha,
        "run_id": str(run.id),
        "run_number": str(run.run_number),
        "run_attempt": "1",
        "event_name": run.event,
        "event": {
            "inputs": dict(run.event_inputs),
            "ref": ref,
            "workflow": run.workflow.path,
            "repository": {"full_name": repo.full_name, "name": repo.name, "owner": {"login": repo.owner}},
            "sender": {"login": run.actor},
        },
        "workflow": run.workflow.name,
        "workflow_ref": f"{repo.full_name}/{run.workflow.path}@{ref}",
        "actor": run.actor,
        "triggering_actor": run.actor,
        "server_url": base,
        "api_url": base,
        "graphql_url": f"{base}/graphql",
        "job": job_key,
        "token": token,
        "head_ref": "",
        "base_ref": "",
        "retention_days": "90",
    }


def needs_context(run: Run, job: Job, jobs: Mapping[int, Job]) -> dict[str, Any]:
    """`needs.<key>.result` / `.outputs` for the direct dependencies of `job`."""
    out: dict[str, Any] = {}
    for key in job.spec.needs:
        dep = jobs[run.job_ids[key]]
        out[key] = {"result": dep.result or "", "outputs": dict(dep.outputs)}
    return out


def ancestors(run: Run, job: Job, jobs: Mapping[int, Job]) -> list[Job]:
    """Every job `job` depends on, directly or transitively."""
    seen: dict[str, Job] = {}
    stack = list(job.spec.needs)
    while stack:
        key = stack.pop()
        if key in seen:
            continue
        dep = jobs[run.job_ids[key]]
        seen[key] = dep
        stack.extend(dep.spec.needs)
    return list(seen.values())


def job_status(run: Run, job: Job, jobs: Mapping[int, Job]) -> Status:
    """Status functions for a job-level `if:` (success/failure look at all ancestors)."""
    results = [dep.result for dep in ancestors(run, job, jobs)]
    return Status(
        success=not run.cancel_requested and all(r == "success" for r in results),
        failure=any(r == "failure" for r in results),
        cancelled=run.cancel_requested,
    )


def job_level_contexts(run: Run, repo: Repo, job: Job, jobs: Mapping[int, Job], base_url: str) -> dict[str, Any]:
    """Contexts available to job-level keys (if, runs-on, name, concurrency, timeout)."""
    return {
        "github": github_context(run, repo, base_url, job.key),
        "inputs": dict(run.inputs),
        "vars": dict(repo.variables),
        "needs": needs_context(run, job, jobs),
        "strategy": {},
        "matrix": {},
    }


def run_level_contexts(run: Run, repo: Repo, base_url: str) -> dict[str, Any]:
    """Contexts available to workflow-level keys (run-name, concurrency)."""
    return {"github": github_context(run, repo, base_url), "inputs": dict(run.inputs), "vars": dict(repo.variables)}
