"""Steps about runners: health, failover, faults."""

from __future__ import annotations

from pytest_bdd import given, parsers, then, when

from fixtures.environment import ScenarioState
from harness.actions.deploys import DEPLOY_JOB, await_job_start, await_seen_unhealthy
from harness.actions.monitoring import observe_detection
from harness.checks.enforce import enforce
from harness.checks.failover import check_failover
from harness.checks.placement import check_ran_on
from harness.core.errors import Inconclusive
from harness.core.waiting import WaitTimeout, wait_for
from harness.faults.base import Fault

ROLES = ("primary", "secondary")


@given("a healthy primary and secondary runner")
def healthy_runners(scenario: ScenarioState) -> None:
    """Both runners online in GitHub and their exporters up in Prometheus (else: inconclusive)."""
    env = scenario.env
    timeout = env.profile.budget("runner_ready_timeout_s")
    names = {env.runner_name(r) for r in ROLES}
    try:
        wait_for(
            lambda: names <= {r["name"] for r in env.github.runners() if r["status"] == "online"},
            "both runners online in GitHub",
            timeout,
        )
        for role in ROLES:
            wait_for(
                lambda r=role: any(
                    float(s["value"][1]) == 1 for s in env.prometheus.query(env.runner_health_selector(r))
                ),
                f"{role} runner target up in Prometheus",
                timeout,
            )
    except WaitTimeout as exc:
        raise Inconclusive(f"precondition not met, runners are not healthy: {exc}") from exc
    scenario.values["version_before"] = env.production.version()
    env.journal.info(
        "precondition.runners_healthy", roles=list(ROLES), production_version=scenario.values["version_before"]
    )


@when(parsers.parse("the {role} runner is cut off from GitHub"))
def runner_cut_off(scenario: ScenarioState, role: str) -> None:
    """Partition the runner from GitHub only: Prometheus still scrapes its exporter."""
    _enter_runner_fault(scenario, role, scenario.env.runner_cut_off_from_github(role))


@then(parsers.parse("monitoring reports the {role} runner unhealthy within the detection budget"))
def monitoring_reports_unhealthy(scenario: ScenarioState, role: str) -> None:
    """Verdict from Prometheus samples of the exporter's runner_status: a 0 within the detection budget."""
    env = scenario.env
    result = observe_detection(env, role, scenario.values["faults"][role].onset_ms)
    enforce(env, result, "detection")
    scenario.values.setdefault("seen_unhealthy_ms", result.measured["seen_unhealthy_ms"])


@when("Prometheus becomes unreachable")
def prometheus_unreachable(scenario: ScenarioState) -> None:
    """Freeze Prometheus (reverted at scenario end); it took effect when it stops answering."""
    fault = scenario.cleanup.enter_context(scenario.env.monitoring_unreachable())
    scenario.values["fault_onset_ms"] = fault.onset_ms


@when(parsers.parse("the {role} runner goes offline"))
def runner_goes_offline(scenario: ScenarioState, role: str) -> None:
    """Inject the fault (reverted at scenario end) and wait until monitoring sees it."""
    fault = _enter_runner_fault(scenario, role, scenario.env.runner_offline(role))
    assert fault.onset_ms is not None
    scenario.values.setdefault("seen_unhealthy_ms", await_seen_unhealthy(scenario.env, role, fault.onset_ms))


@then(parsers.parse("the deploy runs on the {role} runner"))
def deploy_runs_on(scenario: ScenarioState, role: str) -> None:
    """Verdict from the event log: the deploy job started on the runner with `role`."""
    env, v = scenario.env, scenario.values
    until_ms = v["trigger_ms"] + int(env.profile.budget("deploy_timeout_s") * 1000)
    await_job_start(env, scenario.feed, v["run_id"], DEPLOY_JOB, until_ms)
    result = check_ran_on(
        scenario.feed.events(),
        run_id=v["run_id"],
        job_key=DEPLOY_JOB,
        expected_runner=env.runner_name(role),
        trigger_ms=v["trigger_ms"],
    )
    enforce(env, result, "placement", v["run_id"])


@then("the deploy runs on the secondary runner within the failover budget")
def deploy_runs_on_secondary(scenario: ScenarioState) -> None:
    """Verdict from the event log: job start on the secondary minus primary seen unhealthy ≤ budget."""
    env, v = scenario.env, scenario.values
    budget = env.profile.budget("failover_budget_s")
    until_ms = v["seen_unhealthy_ms"] + int(budget * 1000) + 500
    observed = await_job_start(env, scenario.feed, v["run_id"], DEPLOY_JOB, until_ms)
    result = check_failover(
        scenario.feed.events(),
        run_id=v["run_id"],
        job_key=DEPLOY_JOB,
        expected_runner=env.runner_name("secondary"),
        fault_onset_ms=v["fault_onset_ms"],
        seen_unhealthy_ms=v["seen_unhealthy_ms"],
        budget_s=budget,
        observed_until_ms=observed,
    )
    enforce(env, result, "failover", v["run_id"])
    v["failover_s"] = result.measured["failover_s"]


def _enter_runner_fault(scenario: ScenarioState, role: str, fault: Fault) -> Fault:
    """Inject `fault` for the scenario's lifetime; remember it by role and the first fault's onset."""
    scenario.cleanup.enter_context(fault)
    assert fault.onset_ms is not None
    scenario.values.setdefault("fault_onset_ms", fault.onset_ms)
    scenario.values.setdefault("faults", {})[role] = fault
    return fault
