"""Steps about alerts reaching the on-call."""

from __future__ import annotations

import time

from pytest_bdd import parsers, then, when

from fixtures.environment import ScenarioState
from harness.actions.alerts import alert_states, await_notification
from harness.checks.alerting import (
    alert_budget,
    check_alert_delivered,
    check_alert_resolved,
    check_no_page,
    resolve_budget,
)
from harness.checks.enforce import enforce
from harness.checks.failover import down_seconds
from harness.core.claims import alert_claim


@then(parsers.parse('the on-call receives "{alertname}" for the {role} runner within its alert budget'))
def oncall_receives(scenario: ScenarioState, alertname: str, role: str) -> None:
    """Verdict from the sink's arrival times: firing notification, right severity, runbook, within budget."""
    env, onset = scenario.env, scenario.values["faults"][role].onset_ms
    claim = alert_claim(alertname, role)
    budget_s = alert_budget(claim, env.profile)["budget_s"]
    observed = await_notification(scenario.oncall, claim, "firing", onset, onset + int(budget_s * 1000) + 500)
    result = check_alert_delivered(
        scenario.oncall.messages(),
        claim,
        env.profile,
        onset_ms=onset,
        observed_until_ms=observed,
        **alert_states(env, claim, onset),
    )
    enforce(env, result, "alert_delivery")


@when(parsers.parse("the {role} runner comes back"))
def runner_comes_back(scenario: ScenarioState, role: str) -> None:
    """End the runner's fault window now."""
    fault = scenario.values["faults"][role]
    fault.revert_now()
    scenario.values["recovered_ms"] = fault.reverted_ms


@then(parsers.parse('the on-call is told "{alertname}" for the {role} runner is resolved'))
def oncall_told_resolved(scenario: ScenarioState, alertname: str, role: str) -> None:
    """Verdict: a resolved notification within the resolve budget after recovery."""
    env, recovered = scenario.env, scenario.values["recovered_ms"]
    claim = alert_claim(alertname, role)
    until = recovered + int(resolve_budget(env.profile) * 1000) + 500
    observed = await_notification(scenario.oncall, claim, "resolved", recovered, until)
    result = check_alert_resolved(
        scenario.oncall.messages(), claim, env.profile, recovered_ms=recovered, observed_until_ms=observed
    )
    enforce(env, result, "alert_resolved")


@when(parsers.parse("the {role} runner is offline for half of {alertname}'s for"))
def runner_blip(scenario: ScenarioState, role: str, alertname: str) -> None:
    """A blip: the runner is frozen for half the alert's (scaled) `for`, then thawed."""
    env = scenario.env
    claim = alert_claim(alertname, role)
    blip_s = claim.for_s * env.profile.timer("alert_for_scale") / 2
    with env.runner_offline(role) as fault:
        time.sleep(blip_s)  # the fault window's length is the fault's parameter, not a wait for an event
    assert fault.onset_ms is not None and fault.reverted_ms is not None
    scenario.values["blip"] = {
        "alert": claim,
        "start_ms": fault.onset_ms,
        "end_ms": fault.reverted_ms,
        "seconds": (fault.reverted_ms - fault.onset_ms) / 1000,
    }


@then(parsers.parse('no "{alertname}" alert reaches the on-call for the {role} runner'))
def no_page(scenario: ScenarioState, alertname: str, role: str) -> None:
    """Watch for the whole alert budget after the blip began: nothing may page."""
    env, blip = scenario.env, scenario.values["blip"]
    claim = alert_claim(alertname, role)
    watch_until = blip["start_ms"] + int(alert_budget(claim, env.profile)["budget_s"] * 1000)
    observed = await_notification(scenario.oncall, claim, "firing", blip["start_ms"], watch_until)
    samples = env.prometheus.samples(env.runner_health_selector(role), (observed - blip["start_ms"]) / 1000 + 10)
    seen = down_seconds(samples, blip["start_ms"], blip["end_ms"] + 2000, env.profile.timer("scrape_interval_s"))
    result = check_no_page(
        scenario.oncall.messages(),
        claim,
        blip_start_ms=blip["start_ms"],
        watch_until_ms=watch_until,
        observed_until_ms=observed,
        blip_s=blip["seconds"],
        blip_seen_s=seen,
    )
    enforce(env, result, "no_page")
