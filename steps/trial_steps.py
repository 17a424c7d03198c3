"""Steps about repeated deploy trials: success rate and durations (SC-001, SC-002)."""

from __future__ import annotations

from pytest_bdd import then, when

from fixtures.environment import ScenarioState
from harness.actions.trials import run_trials
from harness.core.claims import CONFIDENCE, DEPLOY_P50_BUDGET_S, DEPLOY_P95_BUDGET_S, SUCCESS_RATE_MIN
from harness.core.stats import quantile_trials_needed
from steps.parsers import step


@when(step("one SSH connection in {nth:d} from the runners to production is reset, at random"))
def ssh_connections_reset(scenario: ScenarioState, nth: int) -> None:
    """Reset each SSH connection to production with probability 1/nth (reverted at scenario end)."""
    scenario.service_faults["ssh resets"] = scenario.cleanup.enter_context(scenario.env.ssh_to_production_flaky(nth))


@when("production deploys run back to back until the success rate is decided")
def deploys_back_to_back(scenario: ScenarioState) -> None:
    """Sequential deploy trials, stopped once the rate claim is decided (or at the profile's maximum)."""
    env = scenario.env
    scenario.trials = run_trials(
        env,
        scenario.feed,
        version_prefix="5.0",
        max_trials=int(env.profile.budget("success_trials_max")),
        target=SUCCESS_RATE_MIN,
        confidence=CONFIDENCE,
        min_trials_to_pass=quantile_trials_needed(0.95, CONFIDENCE),  # so SC-002's p95 can be bounded too
    )
    scenario.run_ids.extend(t.run_id for t in scenario.trials)


@then("at least 95 % of the deploys succeed, judged on the lower confidence bound")
def success_rate_met(scenario: ScenarioState) -> None:
    """SC-001 verdict from the journalled trials: PASSED only when the Wilson lower bound clears the target."""
    failed = next((t.run_id for t in scenario.trials if not t.succeeded), None)
    params = {"run_id": failed} if failed is not None else {}
    scenario.judge("success_rate", {"success_rate_min": SUCCESS_RATE_MIN}, confidence=CONFIDENCE, **params)


@then("the deploy durations are within the p50 and p95 budgets")
def durations_within_budget(scenario: ScenarioState) -> None:
    """SC-002 verdict: median and p95 of the journalled deploy job durations, with distribution-free upper bounds."""
    scenario.judge(
        "durations",
        {"deploy_p50_budget_s": DEPLOY_P50_BUDGET_S, "deploy_p95_budget_s": DEPLOY_P95_BUDGET_S},
        confidence=CONFIDENCE,
    )
