"""Repeated deploy trials: back to back, each judged from the event log, stopped once decided.

Stopping as soon as the Wilson bounds decide the claim (checked after every trial, from a
minimum of `min_trials`) keeps nightly runs short; the one-sided bounds are still reported
with every figure, and the journal holds every trial.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass

from harness.actions.deploys import DEPLOY_JOB, GitHubEventFeed, await_run_completed, trigger_deploy
from harness.core.stats import rate_decision
from harness.topology.environment import Environment


@dataclass(frozen=True)
class Trial:
    """One deploy trial: did it succeed, and how long the deploy job ran."""

    number: int
    version: str
    run_id: int
    succeeded: bool
    conclusion: str | None
    served: str | None
    job_seconds: float | None


def _job_seconds(feed: GitHubEventFeed, run_id: int) -> float | None:
    events = [e for e in feed.events() if e.get("run_id") == run_id and e.get("job_key") == DEPLOY_JOB]
    start = next((e["ts_ms"] for e in events if e["type"] == "job.started"), None)
    end = next((e["ts_ms"] for e in events if e["type"] == "job.completed"), None)
    return (end - start) / 1000 if start is not None and end is not None else None


def run_trials(
    env: Environment,
    feed: GitHubEventFeed,
    *,
    version_prefix: str,
    max_trials: int,
    target: float,
    confidence: float,
    min_trials: int = 10,
    min_trials_to_pass: int = 0,
) -> list[Trial]:
    """Deploy `version_prefix`.1, .2, ... one after another until decided or `max_trials`.

    Stops early when the rate claim is refuted (after `min_trials`), or met and at least
    `min_trials_to_pass` trials ran (e.g. enough for a p95 bound).
    """
    trials: list[Trial] = []
    for number in range(1, max_trials + 1):
        version = f"{version_prefix}.{number}"
        run_id = trigger_deploy(env, version)
        run = await_run_completed(env, feed, run_id, env.profile.budget("deploy_timeout_s"))
        served = env.production.version()
        trial = Trial(
            number,
            version,
            run_id,
            run.get("conclusion") == "success" and served == version,
            run.get("conclusion"),
            served,
            _job_seconds(feed, run_id),
        )
        trials.append(trial)
        env.journal.info("trial", **asdict(trial))
        decision = rate_decision(sum(t.succeeded for t in trials), len(trials), target, confidence)
        if len(trials) >= min_trials and decision.decided and (not decision.met or len(trials) >= min_trials_to_pass):
            break
    return trials
