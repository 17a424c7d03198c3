"""Drive and observe deploys through an Environment; every observation goes to the journal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.actions.feeds import JournalFeed
from harness.checks.failover import first_unhealthy_ms
from harness.core.errors import Inconclusive
from harness.core.waiting import WaitTimeout, now_ms, wait_for, watch
from harness.topology.environment import Environment

DEPLOY_WORKFLOW = "deploy.yml"
ROLLBACK_WORKFLOW = "rollback.yml"
DEPLOY_JOB = "deploy"  # the job that changes production, in both workflows


class GitHubEventFeed(JournalFeed):
    """Copies the simulated GitHub's event log into the journal, once per event."""

    def __init__(self, env: Environment) -> None:
        super().__init__(env.journal, lambda after: env.github.events(after=after), "github.event", "event")

    def events(self) -> list[dict[str, Any]]:
        """Every GitHub event this feed journalled."""
        return self.items()


def await_seen_unhealthy(env: Environment, selector: str, what: str, onset_ms: int) -> int:
    """Wait until Prometheus holds a 'down' sample of `selector` (recorded); return its timestamp (ms).

    Inconclusive when it never does: the fault did not take effect as monitoring sees it.
    """
    timeout = env.profile.budget("unhealthy_detection_timeout_s")

    def probe() -> int | None:
        return first_unhealthy_ms(env.prometheus.samples(selector, timeout + 30), onset_ms)

    try:
        return wait_for(
            probe, f"Prometheus to see {what} down", timeout, interval=env.profile.timer("scrape_interval_s") / 4
        )
    except WaitTimeout as exc:
        env.journal.fail("monitor.seen_unhealthy", selector=selector, error=str(exc))
        raise Inconclusive(
            f"{what} was taken offline but Prometheus did not see it down within {timeout:g} s ({selector}); "
            "the fault did not take effect as monitoring sees it, so the scenario cannot be judged"
        ) from exc


def watch_until_down(env: Environment, selector: str, onset_ms: int, deadline_ms: int) -> None:
    """Poll `selector` (recorded) until a 0 sample after `onset_ms` or until `deadline_ms`."""
    window = (deadline_ms - onset_ms) / 1000 + 30
    watch(lambda: first_unhealthy_ms(env.prometheus.samples(selector, window), onset_ms), deadline_ms, 0.25)


def trigger_deploy(env: Environment, version: str) -> int:
    """Dispatch the deploy workflow for `version`; return the run id."""
    return _trigger(env, DEPLOY_WORKFLOW, version)


def trigger_rollback(env: Environment, version: str | None = None) -> int:
    """Dispatch the rollback workflow, back to `version` (None: the release the pipeline picks, the
    state file's previous_version); return the run id. Journalled as a deploy.trigger like a
    deploy, so every run of the scenario is recorded and timed the same way."""
    return _trigger(env, ROLLBACK_WORKFLOW, version)


def _trigger(env: Environment, workflow: str, version: str | None) -> int:
    env.journal.invoke("deploy.trigger", workflow=workflow, version=version)
    run_id = env.github.dispatch(workflow, {"version": version} if version else {})
    env.journal.ok("deploy.trigger", workflow=workflow, version=version, run_id=run_id)
    return run_id


def _follow(feed: GitHubEventFeed, until_ms: int, done: Callable[[list[dict[str, Any]]], bool]) -> int:
    """Poll the event log until `done(events)` holds or `until_ms`; journal how far it was watched."""

    def probe() -> bool:
        feed.poll()
        return done(feed.events())

    _, observed = watch(probe, until_ms)
    return feed.mark_observed(observed)


def deploy_runner(feed: GitHubEventFeed, run_id: int, job_key: str) -> str | None:
    """The runner `job_key` of `run_id` started on (from the journalled events), if it started."""
    feed.poll()
    started = [
        e
        for e in feed.events()
        if e["type"] == "job.started" and e.get("run_id") == run_id and e.get("job_key") == job_key
    ]
    return started[0].get("runner_name") if started else None


def await_job_start(env: Environment, feed: GitHubEventFeed, run_id: int, job_key: str, until_ms: int) -> int:
    """Follow the event log until `job_key` of `run_id` starts or ends, or until `until_ms`; return ms watched."""
    states = ("job.started", "job.completed")
    return _follow(
        feed,
        until_ms,
        lambda events: any(
            e.get("run_id") == run_id and e.get("job_key") == job_key and e["type"] in states for e in events
        ),
    )


def await_run_end(env: Environment, feed: GitHubEventFeed, run_id: int, until_ms: int) -> int:
    """Follow the event log until `run_id` completes or until `until_ms`; record the run; return ms watched."""
    watched = _follow(feed, until_ms, lambda events: _completed(events, run_id))
    record_run(env, run_id)
    return watched


def _completed(events: list[dict[str, Any]], run_id: int) -> bool:
    return any(e["type"] == "run.completed" and e.get("run_id") == run_id for e in events)


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
    """Follow `job_key`'s log (recorded) until it contains `text` (True) or the job ends / `timeout` passes (False)."""

    def probe() -> str | None:
        feed.poll()
        mine = [e for e in feed.events() if e.get("run_id") == run_id and e.get("job_key") == job_key]
        job_id = next((e["job_id"] for e in mine if e["type"] == "job.started"), None)
        if job_id is not None and text in env.github.job_logs(job_id):
            return "seen"
        if any(e["type"] in ("job.completed", "job.skipped") for e in mine):
            return "ended"
        return None

    return watch(probe, now_ms() + int(timeout * 1000), 0.2)[0] == "seen"


def await_run_completed(env: Environment, feed: GitHubEventFeed, run_id: int, timeout: float) -> dict[str, Any]:
    """Follow the event log until the run completes (or `timeout`); record the run, its jobs, logs and summaries."""
    until_ms = now_ms() + int(timeout * 1000)
    _follow(feed, until_ms, lambda events: _completed(events, run_id))
    return record_run(env, run_id)


def record_run(env: Environment, run_id: int) -> dict[str, Any]:
    """Read the run, its jobs, each job's log and summary (the drivers journal each read); return the run."""
    run = env.github.run(run_id)
    for job in env.github.jobs(run_id):
        env.github.job_logs(job["id"])
        env.github.job_detail(job["id"])
    return run


def cancel_if_running(env: Environment, run_id: int) -> None:
    """Cleanup callback: cancel run `run_id` if it is still going (journalled)."""
    run = env.github.run(run_id)
    if run.get("status") != "completed":
        env.journal.info("deploy.cancel", run_id=run_id, reason="scenario ended")
        env.github.cancel(run_id)
