"""Steps about repeated deploy trials: success rate and durations (SC-001, SC-002)."""

from __future__ import annotations

from dataclasses import asdict

from pytest_bdd import parsers, then, when

from fixtures.environment import ScenarioState
from harness.actions.trials import run_trials
from harness.checks.enforce import enforce
from harness.checks.success_rate import check_durations, check_success_rate
from harness.core.claims import CONFIDENCE, DEPLOY_P50_BUDGET_S, DEPLOY_P95_BUDGET_S, SUCCESS_RATE_MIN
from harness.core.stats import quantile_trials_needed


@when(parsers.parse("every {nth:d}rd SSH connection from the runners to production is reset"))
def ssh_connections_reset(scenario: ScenarioState, nth: int) -> None:
    """Deterministically reset every nth SSH connection to production (reverted at scenario end)."""
    scenario.cleanup.enter_context(scenario.env.ssh_to_production_flaky(nth))


@when("production deploys run back to back until the success rate is decided")
def deploys_back_to_back(scenario: ScenarioState) -> None:
    """Sequential deploy trials, stopped once the rate claim is decided (or at the profile's maximum)."""
    env = scenario.env
    scenario.values["trials"] = run_trials(
        env,
        scenario.feed,
        version_prefix="5.0",
        max_trials=int(env.profile.budget("success_trials_max")),
        target=SUCCESS_RATE_MIN,
        confidence=CONFIDENCE,
        min_trials_to_pass=quantile_trials_needed(0.95, CONFIDENCE),
    )  # so SC-002's p95 can be bounded too


@then("at least 95 % of the deploys succeed, judged on the lower confidence bound")
def success_rate_met(scenario: ScenarioState) -> None:
    """SC-001 verdict from the trials: PASSED only when the Wilson lower bound clears the target."""
    trials = scenario.values["trials"]
    result = check_success_rate([t.succeeded for t in trials], target=SUCCESS_RATE_MIN, confidence=CONFIDENCE)
    result.evidence["failed_trials"] = [asdict(t) for t in trials if not t.succeeded]
    enforce(scenario.env, result, "success_rate", next((t.run_id for t in trials if not t.succeeded), None))


@then("the deploy durations are within the p50 and p95 budgets")
def durations_within_budget(scenario: ScenarioState) -> None:
    """SC-002 verdict: median and p95 of deploy job durations, with distribution-free upper bounds."""
    durations = [t.job_seconds for t in scenario.values["trials"] if t.job_seconds is not None]
    enforce(
        scenario.env,
        check_durations(
            durations, p50_budget_s=DEPLOY_P50_BUDGET_S, p95_budget_s=DEPLOY_P95_BUDGET_S, confidence=CONFIDENCE
        ),
        "durations",
    )
