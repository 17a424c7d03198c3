"""JSON shapes of the GitHub REST API (runs, jobs, runners, workflows) built from state."""

from __future__ import annotations

from typing import Any

from harness.github.contexts import full_ref, ref_name
from harness.github.state import Job, Repo, Run, Runner
from harness.github.timeutil import iso, iso_precise

_READ_ONLY_LABELS = frozenset({"self-hosted", "linux", "x64"})


def repo_json(repo: Repo, base: str) -> dict[str, Any]:
    return {
        "id": repo.id,
        "name": repo.name,
        "full_name": repo.full_name,
        "owner": {"login": repo.owner},
        "url": f"{base}/repos/{repo.full_name}",
        "html_url": f"{base}/{repo.full_name}",
    }


def workflow_json(repo: Repo, path: str, base: str) -> dict[str, Any]:
    spec = repo.workflows[path]
    wid = repo.workflow_ids[path]
    return {
        "id": wid,
        "node_id": f"W_{wid}",
        "name": spec.name,
        "path": path,
        "state": "active",
        "url": f"{base}/repos/{repo.full_name}/actions/workflows/{wid}",
        "html_url": f"{base}/{repo.full_name}/blob/main/{path}",
    }


def run_json(run: Run, repo: Repo, base: str) -> dict[str, Any]:
    api = f"{base}/repos/{repo.full_name}/actions/runs/{run.id}"
    return {
        "id": run.id,
        "name": run.workflow.name,
        "display_title": run.display_title,
        "node_id": f"WFR_{run.id}",
        "head_branch": ref_name(full_ref(run.ref)),
        "head_sha": run.sha,
        "path": run.workflow.path,
        "run_number": run.run_number,
        "run_attempt": 1,
        "event": run.event,
        "status": run.status,
        "conclusion": run.conclusion,
        "workflow_id": run.workflow_id,
        "url": api,
        "html_url": f"{base}/{repo.full_name}/actions/runs/{run.id}",
        "jobs_url": f"{api}/jobs",
        "logs_url": f"{api}/logs",
        "cancel_url": f"{api}/cancel",
        "workflow_url": f"{base}/repos/{repo.full_name}/actions/workflows/{run.workflow_id}",
        "created_at": iso(run.created_at),
        "updated_at": iso(run.updated_at),
        "run_started_at": iso(run.started_at or run.created_at),
        "actor": {"login": run.actor},
        "triggering_actor": {"login": run.actor},
        "repository": repo_json(repo, base),
        "inputs": dict(run.inputs),
    }


def job_json(job: Job, run: Run, repo: Repo, base: str) -> dict[str, Any]:
    return {
        "id": job.id,
        "run_id": job.run_id,
        "run_url": f"{base}/repos/{repo.full_name}/actions/runs/{run.id}",
        "node_id": f"CR_{job.id}",
        "head_sha": run.sha,
        "head_branch": ref_name(full_ref(run.ref)),
        "url": f"{base}/repos/{repo.full_name}/actions/jobs/{job.id}",
        "html_url": f"{base}/{repo.full_name}/actions/runs/{run.id}/job/{job.id}",
        "check_run_url": f"{base}/repos/{repo.full_name}/check-runs/{job.id}",
        "status": job.status,
        "conclusion": job.conclusion,
        "created_at": iso(job.created_at),
        "started_at": iso(job.started_at),
        "completed_at": iso(job.completed_at),
        "name": job.name,
        "job_key": job.key,
        "workflow_name": run.workflow.name,
        "run_attempt": 1,
        "labels": list(job.labels) or [label for label in job.spec.runs_on if "${{" not in label],
        "runner_id": job.runner_id,
        "runner_name": job.runner_name,
        "runner_group_id": 1 if job.runner_id is not None else None,
        "runner_group_name": "Default" if job.runner_id is not None else None,
        "steps": [
            {
                "number": s.number,
                "name": s.name,
                "status": s.status,
                "conclusion": s.conclusion,
                "started_at": iso(s.started_at),
                "completed_at": iso(s.completed_at),
            }
            for s in job.steps
        ],
    }


def runner_json(runner: Runner) -> dict[str, Any]:
    return {
        "id": runner.id,
        "name": runner.name,
        "os": runner.os,
        "status": "online" if runner.online else "offline",
        "busy": runner.busy,
        "labels": [
            {"id": index + 1, "name": label, "type": "read-only" if label.casefold() in _READ_ONLY_LABELS else "custom"}
            for index, label in enumerate(runner.labels)
        ],
    }


def annotations_json(job: Job) -> list[dict[str, Any]]:
    return [
        {
            "path": ".github",
            "start_line": 0,
            "end_line": 0,
            "annotation_level": a["level"],
            "message": a["message"],
            "title": "",
            "raw_details": "",
        }
        for a in job.annotations
    ]


def job_log_text(job: Job) -> str:
    """Plain-text job log, one `timestamp text` line each, like GitHub's log download."""
    return "".join(f"{iso_precise(ts)} {text}\n" for ts, text in job.log)
