"""Only runners authorized for production may run any job of a production deploy."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from typing import Any

from harness.checks.history import History
from harness.core.types import CheckRequest, CheckResult, Verdict

CLAIM = (
    "US1: only runners marked authorized for production ever run a production deploy, even when an "
    "unauthorized healthy runner is idle"
)


def check_authorized_only(
    events: Sequence[dict[str, Any]], *, run_id: int, unauthorized: Collection[str]
) -> CheckResult:
    """Verdict: run `run_id` completed and none of its jobs started on a runner in `unauthorized`.

    "Never" needs the whole run: before its run.completed event a job may still start, so an
    unfinished run is inconclusive, not a pass.
    """
    run_events = [e for e in events if e.get("run_id") == run_id]
    started = [e for e in run_events if e["type"] == "job.started"]
    placed = {e.get("job_key"): e.get("runner_name") for e in started}
    measured: dict[str, Any] = {"jobs_on": placed, "unauthorized_runners": sorted(unauthorized)}
    evidence = {"run_events": run_events}
    offending = [e for e in started if e.get("runner_name") in unauthorized]
    if offending:
        first = offending[0]
        return CheckResult(
            CLAIM,
            Verdict.FAILED,
            f"the {first.get('job_key')} job of run {run_id} ran on {first.get('runner_name')!r}, "
            "a runner not authorized for production",
            measured,
            evidence=evidence,
        )
    if not unauthorized:
        return CheckResult(
            CLAIM,
            Verdict.INCONCLUSIVE,
            "the topology has no unauthorized runner, so nothing could have been refused",
            measured,
            evidence=evidence,
        )
    if not any(e["type"] == "run.completed" for e in run_events):
        return CheckResult(
            CLAIM,
            Verdict.INCONCLUSIVE,
            f"run {run_id} had not completed when observation ended: a job could still start anywhere",
            measured,
            evidence=evidence,
        )
    return CheckResult(
        CLAIM,
        Verdict.PASSED,
        f"no job of run {run_id} ran on {', '.join(sorted(unauthorized))}",
        measured,
        evidence=evidence,
    )


def judge_authorized_only(history: History, request: CheckRequest) -> CheckResult:
    """From the journal: the run's GitHub events."""
    p = request.params
    return check_authorized_only(history.github_events(p["run_id"]), run_id=p["run_id"], unauthorized=p["unauthorized"])
