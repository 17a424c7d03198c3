"""Steps about alerts reaching the on-call."""

from __future__ import annotations

import time

from pytest_bdd import then, when

from fixtures.environment import ScenarioState
from harness.actions.alerts import await_notification, record_alert_states
from harness.checks.alerting import alert_budget, resolve_budget
from harness.core.claims import alert_claim
from harness.core.errors import ConfigError
from harness.core.types import Role
from steps.parsers import step


@then(step('the on-call receives "{alertname:Alert}" for the {role:Role} runner within its alert budget'))
def oncall_receives(scenario: ScenarioState, alertname: str, role: Role) -> None:
    """Watch the sink for the alert budget after the fault; judge delivery, severity, runbook and latency."""
    env, fault = scenario.env, scenario.runner_fault(role)
    claim = alert_claim(alertname, role)
    budget = alert_budget(claim, env.profile)
    onset = fault.onset()
    await_notification(scenario.oncall, claim, "firing", onset, onset + int(budget["budget_s"] * 1000) + 500)
    record_alert_states(env, claim, onset)
    scenario.judge("alert_delivery", budget, alertname=alertname, role=role, fault_id=fault.fault_id)


@when(step("the {role:Role} runner comes back"))
def runner_comes_back(scenario: ScenarioState, role: Role) -> None:
    """End the runner's fault window now."""
    scenario.runner_fault(role).revert_now()


@then(step('the on-call is told "{alertname:Alert}" for the {role:Role} runner is resolved'))
def oncall_told_resolved(scenario: ScenarioState, alertname: str, role: Role) -> None:
    """Watch the sink for the resolve budget after recovery; judge the resolved notification."""
    env, fault = scenario.env, scenario.runner_fault(role)
    recovered = fault.reverted()
    claim = alert_claim(alertname, role)
    budget_s = round(resolve_budget(env.profile), 3)
    await_notification(scenario.oncall, claim, "resolved", recovered, recovered + int(budget_s * 1000) + 500)
    scenario.judge(
        "alert_resolved", {"resolve_budget_s": budget_s}, alertname=alertname, role=role, fault_id=fault.fault_id
    )


@when(step("the {role:Role} runner is offline for half of {alertname:Alert}'s for"))
def runner_blip(scenario: ScenarioState, role: Role, alertname: str) -> None:
    """A blip: the runner is frozen for half the alert's (scaled) `for`, then thawed."""
    env = scenario.env
    blip_s = alert_claim(alertname, role).for_s * env.profile.timer("alert_for_scale") / 2
    with env.runner_offline(role) as fault:
        time.sleep(blip_s)  # the fault window's length is the fault's parameter, not a wait for an event
    scenario.blip = fault
    scenario.runner_faults[role] = fault


@then(step('no "{alertname:Alert}" alert reaches the on-call for the {role:Role} runner'))
def no_page(scenario: ScenarioState, alertname: str, role: Role) -> None:
    """Watch the sink for the whole alert budget after the blip began; read the blip's samples; judge."""
    env, blip = scenario.env, scenario.blip
    if blip is None:
        raise ConfigError(f"scenario {scenario.name!r}: no earlier step made the {role} runner blip")
    onset = blip.onset()
    claim = alert_claim(alertname, role)
    budget = alert_budget(claim, env.profile)
    watch_until = onset + int(budget["budget_s"] * 1000)
    observed = await_notification(scenario.oncall, claim, "firing", onset, watch_until)
    selector = env.runner_health_selector(role)
    env.prometheus.samples(selector, (observed - onset) / 1000 + 10)
    scenario.judge(
        "no_page",
        budget,
        alertname=alertname,
        role=role,
        fault_id=blip.fault_id,
        health_selector=selector,
        scrape_interval_s=env.profile.timer("scrape_interval_s"),
    )
