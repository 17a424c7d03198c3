"""Where a job ran: the runner named by the job.started event."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.checks.failover import job_events
from harness.checks.history import History
from harness.core.types import CheckRequest, CheckResult, Verdict

CLAIM = "US1: with a healthy primary, the production deploy runs on the primary runner"


def check_ran_on(
    events: Sequence[dict[str, Any]], *, run_id: int, job_key: str, expected_runner: str, trigger_ms: int
) -> CheckResult:
    """Verdict: `job_key` of `run_id` started on `expected_runner`; queue time measured from the trigger."""
    mine = job_events(events, job_key, run_id)
    started = [e for e in mine if e["type"] == "job.started"]
    evidence = {"job_events": mine}
    if not started:
        ended = [e for e in mine if e["type"] in ("job.completed", "job.skipped")]
        if ended:
            return CheckResult(
                CLAIM,
                Verdict.FAILED,
                f"the {job_key} job never started: it ended {ended[-1].get('conclusion')}",
                evidence=evidence,
            )
        return CheckResult(
            CLAIM, Verdict.INCONCLUSIVE, f"the {job_key} job had not started when observation ended", evidence=evidence
        )
    runner = started[0].get("runner_name")
    measured = {"runner": runner, "trigger_to_start_s": round((started[0]["ts_ms"] - trigger_ms) / 1000, 3)}
    if runner != expected_runner:
        return CheckResult(
            CLAIM,
            Verdict.FAILED,
            f"the {job_key} job ran on {runner!r}, not on {expected_runner!r}",
            measured,
            evidence=evidence,
        )
    return CheckResult(CLAIM, Verdict.PASSED, f"the {job_key} job ran on {runner}", measured, evidence=evidence)


def judge_ran_on(history: History, request: CheckRequest) -> CheckResult:
    """From the journal: the run's events and its trigger time."""
    p = request.params
    return check_ran_on(
        history.github_events(p["run_id"]),
        run_id=p["run_id"],
        job_key=p["job_key"],
        expected_runner=p["expected_runner"],
        trigger_ms=history.trigger_ms(p["run_id"]),
    )
