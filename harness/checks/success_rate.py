"""SC-001 / SC-002: deploy success rate gated on its Wilson lower bound; duration quantiles with bounds."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.checks.history import History, MissingObservation
from harness.core.stats import quantile, quantile_upper_bound, rate_decision, trials_needed
from harness.core.types import CheckRequest, CheckResult, Verdict

CLAIM_RATE = "SC-001: at least success_rate_min of production deploys succeed (judged on the lower bound)"
CLAIM_DURATION = "SC-002: deploy job start to complete within deploy_p50_budget_s (median) and p95"


def check_success_rate(outcomes: Sequence[bool], *, target: float, confidence: float) -> CheckResult:
    """Verdict on `rate >= target` from trial outcomes: decided only when the bound clears the target."""
    successes, trials = sum(outcomes), len(outcomes)
    decision = rate_decision(successes, trials, target, confidence)
    measured = {
        "trials": trials,
        "successes": successes,
        "rate": round(successes / trials, 4) if trials else None,
        "lower_bound": round(decision.lower, 4),
        "upper_bound": round(decision.upper, 4),
    }
    budget = {"success_rate_min": target, "confidence_one_sided": confidence}
    if decision.met:
        return CheckResult(
            CLAIM_RATE,
            Verdict.PASSED,
            f"{successes}/{trials} deploys succeeded; the rate is at least {decision.lower:.3f} "
            f"with {confidence:.0%} confidence (target {target:.2f})",
            measured,
            budget,
        )
    if decision.upper < target:
        return CheckResult(
            CLAIM_RATE,
            Verdict.FAILED,
            f"only {successes}/{trials} deploys succeeded; the rate is at most {decision.upper:.3f} "
            f"with {confidence:.0%} confidence, below the {target:.2f} target",
            measured,
            budget,
        )
    needed = trials_needed(target, confidence, failures=trials - successes)
    measured["trials_needed"] = needed
    return CheckResult(
        CLAIM_RATE,
        Verdict.INCONCLUSIVE,
        f"{successes}/{trials} deploys succeeded, too few trials to decide: the bounds "
        f"[{decision.lower:.3f}, {decision.upper:.3f}] straddle {target:.2f}; with no more failures "
        f"{needed} trials would decide it",
        measured,
        budget,
    )


def check_durations(
    durations_s: Sequence[float], *, p50_budget_s: float, p95_budget_s: float, confidence: float
) -> CheckResult:
    """Verdict: median and p95 of job durations (with distribution-free upper bounds) within their budgets."""
    values = list(durations_s)
    if not values:
        return CheckResult(CLAIM_DURATION, Verdict.INCONCLUSIVE, "no completed deploy jobs to measure")
    p50, p95 = quantile(values, 0.5), quantile(values, 0.95)
    p50_ub, p95_ub = quantile_upper_bound(values, 0.5, confidence), quantile_upper_bound(values, 0.95, confidence)
    measured: dict[str, Any] = {
        "n": len(values),
        "p50_s": round(p50, 3),
        "p95_s": round(p95, 3),
        "max_s": round(max(values), 3),
        "p50_upper_bound_s": p50_ub and round(p50_ub, 3),
        "p95_upper_bound_s": p95_ub and round(p95_ub, 3),
    }
    budget = {"deploy_p50_budget_s": p50_budget_s, "deploy_p95_budget_s": p95_budget_s}
    if p50 > p50_budget_s or p95 > p95_budget_s:
        return CheckResult(
            CLAIM_DURATION,
            Verdict.FAILED,
            f"deploy durations p50 {p50:.1f} s / p95 {p95:.1f} s exceed "
            f"the budgets {p50_budget_s:g} / {p95_budget_s:g} s",
            measured,
            budget,
        )
    if p95_ub is None or p50_ub is None or p50_ub > p50_budget_s or p95_ub > p95_budget_s:
        return CheckResult(
            CLAIM_DURATION,
            Verdict.INCONCLUSIVE,
            "the durations' upper bounds do not clear the budgets yet (too few trials)",
            measured,
            budget,
        )
    return CheckResult(
        CLAIM_DURATION,
        Verdict.PASSED,
        f"p50 {p50:.2f} s, p95 {p95:.2f} s (upper bounds "
        f"{p50_ub:.2f} / {p95_ub:.2f} s) within {p50_budget_s:g} / {p95_budget_s:g} s",
        measured,
        budget,
    )


def trial_succeeded(trial: dict[str, Any]) -> bool:
    """A trial succeeded when its run concluded success and production then served its version."""
    return trial.get("conclusion") == "success" and trial.get("served") == trial.get("version")


def judge_success_rate(history: History, request: CheckRequest) -> CheckResult:
    """From the journalled trials of the scenario."""
    trials = [e for e in history.of("trial")]
    if not trials:
        raise MissingObservation("the journal has no deploy trial")
    succeeded = [trial_succeeded(t) for t in trials]
    result = check_success_rate(
        succeeded,
        target=request.budget("success_rate_min"),
        confidence=request.params["confidence"],
    )
    keep = ("number", "version", "run_id", "succeeded", "conclusion", "served", "job_seconds")
    result.evidence["failed_trials"] = [
        {k: t.get(k) for k in keep} for t, ok in zip(trials, succeeded, strict=True) if not ok
    ]
    return result


def judge_durations(history: History, request: CheckRequest) -> CheckResult:
    """From the journalled trials' deploy job durations."""
    trials = history.of("trial")
    if not trials:
        raise MissingObservation("the journal has no deploy trial")
    return check_durations(
        [float(t["job_seconds"]) for t in trials if t.get("job_seconds") is not None],
        p50_budget_s=request.budget("deploy_p50_budget_s"),
        p95_budget_s=request.budget("deploy_p95_budget_s"),
        confidence=request.params["confidence"],
    )
