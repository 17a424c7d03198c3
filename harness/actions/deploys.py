"""Drive and observe deploys through an Environment; every observation goes to the journal."""

from __future__ import annotations

import time
from typing import Any

from harness.actions.feeds import JournalFeed
from harness.checks.failover import first_unhealthy_ms
from harness.core.errors import Inconclusive
from harness.core.waiting import WaitTimeout, wait_for
from harness.topology.environment import Environment

DEPLOY_WORKFLOW = "deploy.yml"
DEPLOY_JOB = "deploy"


class GitHubEventFeed(JournalFeed):
    """Copies the simulated GitHub's event log into the journal, once per event."""

    def __init__(self, env: Environment) -> None:
        super().__init__(env.journal, lambda after: env.github.events(after=after), "github.event", "event")

    def events(self) -> list[dict[str, Any]]:
        """Every GitHub event this feed journalled."""
        return self.items()


def await_seen_unhealthy(env: Environment, role: str, onset_ms: int) -> int:
    """Wait until Prometheus holds a 'down' sample of the runner's target; return its timestamp (ms)."""
    timeout = env.profile.budget("unhealthy_detection_timeout_s")
    selector = env.runner_health_selector(role)

    def probe() -> int | None:
        return first_unhealthy_ms(env.prometheus.samples(selector, timeout + 30), onset_ms)

    try:
        seen = wait_for(
            probe, f"Prometheus to see runner {role} down", timeout, interval=env.profile.timer("scrape_interval_s") / 4
        )
    except WaitTimeout as exc:
        env.journal.fail("monitor.seen_unhealthy", role=role, error=str(exc))
        raise Inconclusive(
            f"the {role} runner was taken offline but Prometheus did not see its target down "
            f"within {timeout:g} s ({selector}); the fault did not take effect as monitoring "
            "sees it, so failover cannot be judged"
        ) from exc
    env.journal.info("monitor.seen_unhealthy", role=role, observed_ts_ms=seen, selector=selector)
    return seen


def trigger_deploy(env: Environment, version: str) -> int:
    """Dispatch the deploy workflow for `version`; return the run id."""
    env.journal.invoke("deploy.trigger", workflow=DEPLOY_WORKFLOW, version=version)
    run_id = env.github.dispatch(DEPLOY_WORKFLOW, {"version": version})
    env.journal.ok("deploy.trigger", workflow=DEPLOY_WORKFLOW, version=version, run_id=run_id)
    return run_id


def await_job_start(env: Environment, feed: GitHubEventFeed, run_id: int, job_key: str, until_ms: int) -> int:
    """Follow the event log until `job_key` of `run_id` starts or ends, or until `until_ms`.

    Returns the wall-clock time (ms) up to which the log was observed.
    """
    while True:
        now_ms = int(time.time() * 1000)
        for event in feed.poll():
            if (
                event.get("run_id") == run_id
                and event.get("job_key") == job_key
                and event["type"] in ("job.started", "job.completed")
            ):
                return now_ms
        if now_ms >= until_ms:
            return now_ms
        time.sleep(0.1)


def await_run_end(env: Environment, feed: GitHubEventFeed, run_id: int, until_ms: int) -> int:
    """Follow the event log until `run_id` completes or until `until_ms`; return the last ms observed."""
    while True:
        now_ms = int(time.time() * 1000)
        feed.poll()
        if any(e["type"] == "run.completed" and e.get("run_id") == run_id for e in feed.events()):
            return now_ms
        if now_ms >= until_ms:
            return now_ms
        time.sleep(0.1)


def await_job_state(
    env: Environment, feed: GitHubEventFeed, run_id: int, job_key: str, states: tuple[str, ...], timeout: float
) -> dict[str, Any]:
    """Follow the event log until `job_key` of `run_id` has an event of one of `states`; return that event."""

    def probe() -> dict[str, Any] | None:
        feed.poll()
        return next(
            (
                e
                for e in feed.events()
                if e.get("run_id") == run_id and e.get("job_key") == job_key and e["type"] in states
            ),
            None,
        )

    try:
        return wait_for(probe, f"{job_key} of run {run_id} to reach {states}", timeout, interval=0.1)
    except WaitTimeout as exc:
        raise Inconclusive(
            f"run {run_id}'s {job_key} job did not reach {states} in {timeout:g} s, so the "
            "concurrent deploys could not be lined up as the scenario needs"
        ) from exc


def await_job_log(
    env: Environment, feed: GitHubEventFeed, run_id: int, job_key: str, text: str, timeout: float
) -> bool:
    """Follow `job_key`'s log until it contains `text` (True) or the job ends / `timeout` passes (False)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        feed.poll()
        mine = [e for e in feed.events() if e.get("run_id") == run_id and e.get("job_key") == job_key]
        job_id = next((e["job_id"] for e in mine if e["type"] == "job.started"), None)
        if job_id is not None and text in env.github.job_logs(job_id):
            return True
        if any(e["type"] in ("job.completed", "job.skipped") for e in mine):
            return False
        time.sleep(0.2)
    return False


def await_run_completed(env: Environment, feed: GitHubEventFeed, run_id: int, timeout: float) -> dict[str, Any]:
    """Follow the event log until the run completes; return the run as the API shows it."""
    try:
        wait_for(
            lambda: (
                any(e["type"] == "run.completed" and e.get("run_id") == run_id for e in feed.poll())
                or any(e["type"] == "run.completed" and e.get("run_id") == run_id for e in feed.events())
            ),
            f"run {run_id} to complete",
            timeout,
            interval=0.2,
        )
    except WaitTimeout as exc:
        run = env.github.run(run_id)
        env.journal.fail("deploy.await", run_id=run_id, status=run.get("status"))
        return run | {"timed_out": str(exc)}
    run = env.github.run(run_id)
    env.journal.ok("deploy.await", run_id=run_id, conclusion=run.get("conclusion"))
    return run


def run_diagnostics(env: Environment, run_id: int) -> dict[str, Any]:
    """Jobs of the run with their (masked) logs: evidence for a finding."""
    jobs = env.github.jobs(run_id)
    return {
        "jobs": [
            {k: j.get(k) for k in ("name", "status", "conclusion", "runner_name", "labels")}
            | {"log_tail": env.github.job_logs(j["id"])[-3000:]}
            for j in jobs
        ]
    }


def cancel_if_running(env: Environment, run_id: int) -> None:
    """Cleanup callback: cancel run `run_id` if it is still going (journalled)."""
    run = env.github.run(run_id)
    if run.get("status") != "completed":
        env.journal.info("deploy.cancel", run_id=run_id, reason="scenario ended")
        env.github.cancel(run_id)
