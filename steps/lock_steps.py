"""Steps about a deploy lock held too long: the on-call is paged, and short holds never page."""

from __future__ import annotations

import time

from pytest_bdd import then, when

from fixtures.environment import ScenarioState
from harness.actions.alerts import await_notification, record_alert_states
from harness.checks.alerting import alert_budget, resolve_budget
from harness.core.claims import alert_claim
from steps.parsers import step

LOCK = "deploy lock"  # the stuck deploy's fault (steps.concurrency_steps: "a stuck deploy holds ...")
HOLDS = ("deploy lock hold 1", "deploy lock hold 2")


@then(step('the on-call receives "{alertname:Alert}" for the held lock within its alert budget'))
def oncall_receives_for_lock(scenario: ScenarioState, alertname: str) -> None:
    """Watch the sink for the alert budget after the lock was taken; judge delivery, severity, runbook, latency."""
    env, fault = scenario.env, scenario.service_fault(LOCK)
    claim = alert_claim(alertname)
    budget = alert_budget(claim, env.profile)
    onset = fault.onset()
    await_notification(scenario.oncall, claim, "firing", onset, onset + int(budget["budget_s"] * 1000) + 500)
    record_alert_states(env, claim, onset)
    scenario.judge("alert_delivery", budget, alertname=alertname, fault_id=fault.fault_id)


@when("the stuck deploy lets go")
def stuck_deploy_lets_go(scenario: ScenarioState) -> None:
    """Release the lock now (end of the fault window)."""
    scenario.service_fault(LOCK).revert_now()


@then(step('the on-call is told "{alertname:Alert}" for the held lock is resolved'))
def oncall_told_lock_resolved(scenario: ScenarioState, alertname: str) -> None:
    """Watch the sink for the resolve budget after the lock was released; judge the resolved notification."""
    env, fault = scenario.env, scenario.service_fault(LOCK)
    released = fault.reverted()
    claim = alert_claim(alertname)
    budget_s = round(resolve_budget(env.profile), 3)
    await_notification(scenario.oncall, claim, "resolved", released, released + int(budget_s * 1000) + 500)
    scenario.judge("alert_resolved", {"resolve_budget_s": budget_s}, alertname=alertname, fault_id=fault.fault_id)


@when(step("two deploys in a row each hold the deploy lock for two thirds of {alertname:Alert}'s for"))
def two_holds_in_a_row(scenario: ScenarioState, alertname: str) -> None:
    """Two transactions back to back, each held for 2/3 of the alert's (scaled) `for`: 4/3 of it in all."""
    env = scenario.env
    hold_s = alert_claim(alertname).for_s * env.profile.timer("alert_for_scale") * 2 / 3
    for name in HOLDS:
        with env.deploy_lock_held() as fault:
            time.sleep(hold_s)  # the hold's length is the fault's parameter, not a wait for an event
        scenario.service_faults[name] = fault


@then(step('no "{alertname:Alert}" alert reaches the on-call for those holds'))
def no_page_for_holds(scenario: ScenarioState, alertname: str) -> None:
    """Watch the sink for the alert budget from the first hold; read the lock's series; judge."""
    env = scenario.env
    faults = [scenario.service_fault(name) for name in HOLDS]
    start = faults[0].onset()
    claim = alert_claim(alertname)
    budget = alert_budget(claim, env.profile)
    observed = await_notification(scenario.oncall, claim, "firing", start, start + int(budget["budget_s"] * 1000))
    selector = env.deploy_lock_selector()
    env.prometheus.series_samples(selector, (observed - start) / 1000 + 10)
    scenario.judge(
        "no_page_short_holds",
        budget,
        alertname=alertname,
        fault_ids=[f.fault_id for f in faults],
        lock_selector=selector,
        scrape_interval_s=env.profile.timer("scrape_interval_s"),
    )
