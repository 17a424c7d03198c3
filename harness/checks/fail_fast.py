"""A deploy that cannot run safely must fail fast, before touching production, saying why."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.checks.failover import job_events
from harness.checks.history import History
from harness.core.types import CheckRequest, CheckResult, Verdict

CLAIM = "a deploy that cannot run safely (no healthy runner, no health evidence, bad credentials) fails fast"


def check_fail_fast(
    events: Sequence[dict[str, Any]],
    *,
    run_id: int,
    job_key: str,
    trigger_ms: int,
    budget_s: float,
    observed_until_ms: int,
) -> CheckResult:
    """Verdict: run `run_id` concluded failure within `budget_s` of `trigger_ms` and `job_key` never started."""
    run_events = [e for e in events if e.get("run_id") == run_id]
    completed = [e for e in run_events if e["type"] == "run.completed"]
    started = [e for e in job_events(events, job_key, run_id) if e["type"] == "job.started"]
    budget = {"fail_fast_budget_s": budget_s}
    evidence = {"run_events": run_events}
    measured: dict[str, Any] = {}
    if started:
        measured["deploy_started_on"] = started[0].get("runner_name")
        return CheckResult(
            CLAIM,
            Verdict.FAILED,
            f"the {job_key} job started on {started[0].get('runner_name')!r} although the deploy "
            "should have been stopped before any runner took it",
            measured,
            budget,
            evidence,
        )
    if not completed:
        if observed_until_ms < trigger_ms + budget_s * 1000:
            return CheckResult(
                CLAIM,
                Verdict.INCONCLUSIVE,
                "observation ended before the fail-fast budget elapsed",
                measured,
                budget,
                evidence,
            )
        queued = [e for e in job_events(events, job_key, run_id) if e["type"] == "job.queued"]
        where = f"its {job_key} job still queued for {queued[-1].get('labels')}" if queued else "still running"
        return CheckResult(
            CLAIM,
            Verdict.FAILED,
            f"the run had not failed {budget_s:g} s after the trigger: {where} (it sits instead of failing fast)",
            measured,
            budget,
            evidence,
        )
    measured["time_to_fail_s"] = round((completed[0]["ts_ms"] - trigger_ms) / 1000, 3)
    conclusion = completed[0].get("conclusion")
    measured["conclusion"] = conclusion
    if conclusion != "failure":
        return CheckResult(
            CLAIM, Verdict.FAILED, f"the run concluded {conclusion!r}, not failure", measured, budget, evidence
        )
    if measured["time_to_fail_s"] > budget_s:
        return CheckResult(
            CLAIM,
            Verdict.FAILED,
            f"the run failed only after {measured['time_to_fail_s']:.3f} s (budget {budget_s:g} s)",
            measured,
            budget,
            evidence,
        )
    return CheckResult(
        CLAIM,
        Verdict.PASSED,
        f"the run failed {measured['time_to_fail_s']:.3f} s after the trigger without starting "
        f"{job_key} (budget {budget_s:g} s)",
        measured,
        budget,
        evidence,
    )


def judge_fail_fast(history: History, request: CheckRequest) -> CheckResult:
    """From the journal: the trigger, the run's events and how long the event log was watched."""
    p = request.params
    return check_fail_fast(
        history.github_events(p["run_id"]),
        run_id=p["run_id"],
        job_key=p["job_key"],
        trigger_ms=history.trigger_ms(p["run_id"]),
        budget_s=request.budget("fail_fast_budget_s"),
        observed_until_ms=history.observed_until("github.event"),
    )
