"""SC-001 / SC-002 verdicts."""

from __future__ import annotations

from harness.checks.success_rate import check_durations, check_success_rate
from harness.core.types import Verdict


def test_enough_successes_pass_on_the_lower_bound() -> None:
    result = check_success_rate([True] * 52, target=0.95, confidence=0.95)
    assert result.verdict is Verdict.PASSED
    assert result.measured["lower_bound"] >= 0.95


def test_too_few_trials_are_inconclusive_and_say_how_many_would_decide() -> None:
    result = check_success_rate([True] * 20, target=0.95, confidence=0.95)
    assert result.verdict is Verdict.INCONCLUSIVE
    assert result.measured["trials_needed"] == 52
    assert "52 trials would decide it" in result.message


def test_a_poor_rate_is_a_finding() -> None:
    result = check_success_rate([True, False] * 5, target=0.95, confidence=0.95)
    assert result.verdict is Verdict.FAILED
    assert "only 5/10 deploys succeeded" in result.message


def test_durations_within_budget_pass_with_bounds() -> None:
    result = check_durations([1.0 + i / 100 for i in range(60)], p50_budget_s=600, p95_budget_s=600, confidence=0.95)
    assert result.verdict is Verdict.PASSED
    assert result.measured["p95_upper_bound_s"] is not None


def test_durations_over_budget_fail_and_too_few_are_inconclusive() -> None:
    slow = check_durations([700.0] * 60, p50_budget_s=600, p95_budget_s=600, confidence=0.95)
    assert slow.verdict is Verdict.FAILED
    few = check_durations([1.0] * 10, p50_budget_s=600, p95_budget_s=600, confidence=0.95)
    assert few.verdict is Verdict.INCONCLUSIVE
    assert check_durations([], p50_budget_s=1, p95_budget_s=1, confidence=0.95).verdict is Verdict.INCONCLUSIVE
