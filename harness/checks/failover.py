"""Failover timing, computed from the simulated GitHub's event log and Prometheus samples."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.checks.history import History, MissingObservation
from harness.core.types import CheckRequest, CheckResult, Verdict

CLAIM = "US1 failover: deploy starts on the secondary within failover_budget_s of the primary seen unhealthy"


def first_unhealthy_ms(samples: Sequence[tuple[float, float]], after_ms: int) -> int | None:
    """Timestamp (ms) of the first sample at or after `after_ms` whose value is 0 (target down)."""
    for ts, value in samples:
        if ts * 1000 >= after_ms and value == 0:
            return round(ts * 1000)
    return None


def detection_budget(profile_timers: dict[str, float], margin_s: float = 2.0) -> float:
    """Worst case for the exporter to report a runner that lost GitHub: stale threshold + one heartbeat
    + one scrape (interval and timeout) + a margin."""
    t = profile_timers
    return (
        t["exporter_stale_after_s"]
        + t["runner_heartbeat_s"]
        + t["scrape_interval_s"]
        + t["scrape_timeout_s"]
        + margin_s
    )


def check_detected(
    samples: Sequence[tuple[float, float]], *, onset_ms: int, budget_s: float, observed_until_ms: int, what: str
) -> CheckResult:
    """Verdict: monitoring reported the runner unhealthy (a 0 sample) within `budget_s` of the fault."""
    claim = f"US2: monitoring reports {what} within the detection budget"
    first = first_unhealthy_ms(samples, onset_ms)
    budget = {"detection_budget_s": round(budget_s, 3)}
    if first is None or first > onset_ms + budget_s * 1000:
        if first is None and observed_until_ms < onset_ms + budget_s * 1000:
            return CheckResult(
                claim, Verdict.INCONCLUSIVE, "observation ended before the detection budget elapsed", {}, budget
            )
        return CheckResult(
            claim,
            Verdict.FAILED,
            f"monitoring still reported {what} healthy {budget_s:g} s after the fault "
            "(an exporter that only checks the runner service process is blind to this)",
            {},
            budget,
            {"samples": list(samples)[-30:]},
        )
    seconds = round((first - onset_ms) / 1000, 3)
    return CheckResult(
        claim,
        Verdict.PASSED,
        f"monitoring reported {what} unhealthy {seconds:.3f} s after the fault (budget {budget_s:g} s)",
        {"detection_s": seconds, "seen_unhealthy_ms": first},
        budget,
    )


def down_seconds(samples: Sequence[tuple[float, float]], start_ms: int, end_ms: int, step_s: float) -> float:
    """How long a target was seen down between `start_ms` and `end_ms`: 0-valued samples times the step."""
    return sum(step_s for ts, value in samples if start_ms <= ts * 1000 <= end_ms and value == 0)


def job_events(events: Sequence[dict[str, Any]], job_key: str, run_id: int | None = None) -> list[dict[str, Any]]:
    """Events of one job (by workflow job key), optionally of one run."""
    return [e for e in events if e.get("job_key") == job_key and (run_id is None or e.get("run_id") == run_id)]


def check_failover(
    events: Sequence[dict[str, Any]],
    *,
    run_id: int,
    job_key: str,
    expected_runner: str,
    fault_onset_ms: int,
    seen_unhealthy_ms: int,
    budget_s: float,
    observed_until_ms: int,
) -> CheckResult:
    """Verdict on failover: did `job_key` of `run_id` start on `expected_runner` within the budget?"""
    mine = job_events(events, job_key, run_id)
    started = [e for e in mine if e["type"] == "job.started"]
    budget = {"failover_budget_s": budget_s}
    measured: dict[str, Any] = {"detection_s": round((seen_unhealthy_ms - fault_onset_ms) / 1000, 3)}
    evidence = {"job_events": mine, "expected_runner": expected_runner}
    deadline_ms = seen_unhealthy_ms + int(budget_s * 1000)
    if not started:
        if observed_until_ms < deadline_ms:
            return CheckResult(
                CLAIM,
                Verdict.INCONCLUSIVE,
                f"observation ended {(deadline_ms - observed_until_ms) / 1000:.1f} s before the "
                "failover budget elapsed and the deploy job had not started yet",
                measured,
                budget,
                evidence,
            )
        completed = [e for e in mine if e["type"] == "job.completed"]
        queued = [e for e in mine if e["type"] == "job.queued"]
        state = (
            f"it ended {completed[-1].get('conclusion')} without starting"
            if completed
            else f"it was still queued for labels {queued[-1].get('labels') if queued else '?'}"
        )
        return CheckResult(
            CLAIM,
            Verdict.FAILED,
            f"the deploy job did not start on any runner within {budget_s:g} s of the primary "
            f"being seen unhealthy: {state}",
            measured,
            budget,
            evidence,
        )
    first = started[0]
    measured["failover_s"] = round((first["ts_ms"] - seen_unhealthy_ms) / 1000, 3)
    measured["fault_onset_to_start_s"] = round((first["ts_ms"] - fault_onset_ms) / 1000, 3)
    measured["runner"] = first.get("runner_name")
    if first.get("runner_name") != expected_runner:
        return CheckResult(
            CLAIM,
            Verdict.FAILED,
            f"the deploy job started on {first.get('runner_name')!r}, not on the secondary {expected_runner!r}",
            measured,
            budget,
            evidence,
        )
    if first["ts_ms"] > deadline_ms:
        return CheckResult(
            CLAIM,
            Verdict.FAILED,
            f"failover took {measured['failover_s']:.3f} s, over the {budget_s:g} s budget",
            measured,
            budget,
            evidence,
        )
    return CheckResult(
        CLAIM,
        Verdict.PASSED,
        f"the deploy job started on {expected_runner} {measured['failover_s']:.3f} s after the "
        f"primary was seen unhealthy (budget {budget_s:g} s)",
        measured,
        budget,
        evidence,
    )


def judge_failover(history: History, request: CheckRequest) -> CheckResult:
    """From the journal: fault onset, the first unhealthy sample of `unhealthy_selector`, job events."""
    p = request.params
    onset = history.first_fault().onset_ms
    seen = first_unhealthy_ms(history.samples(p["unhealthy_selector"]), onset)
    if seen is None:
        raise MissingObservation(
            f"no recorded sample of {p['unhealthy_selector']} shows the runner down after the fault"
        )
    return check_failover(
        history.github_events(p["run_id"]),
        run_id=p["run_id"],
        job_key=p["job_key"],
        expected_runner=p["expected_runner"],
        fault_onset_ms=onset,
        seen_unhealthy_ms=seen,
        budget_s=request.budget("failover_budget_s"),
        observed_until_ms=history.observed_until("github.event"),
    )


def judge_detection(history: History, request: CheckRequest) -> CheckResult:
    """From the journal: the fault's onset and the recorded samples of the runner's own health report."""
    p = request.params
    return check_detected(
        history.samples(p["selector"]),
        onset_ms=history.first_fault().onset_ms,
        budget_s=request.budget("detection_budget_s"),
        observed_until_ms=history.prometheus_observed_until(p["selector"]),
        what=p["what"],
    )
