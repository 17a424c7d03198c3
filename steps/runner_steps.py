"""Steps about runners: health, failover, faults."""

from __future__ import annotations

from pytest_bdd import given, then, when

from fixtures.environment import ScenarioState
from harness.actions.deploys import (
    DEPLOY_JOB,
    await_job_start,
    await_run_completed,
    await_seen_unhealthy,
    watch_until_down,
)
from harness.checks.failover import detection_budget
from harness.core.errors import Inconclusive
from harness.core.types import Role
from harness.core.waiting import WaitTimeout, wait_for
from harness.faults.base import Fault
from steps.parsers import step


@given("a healthy primary and secondary runner")
def healthy_runners(scenario: ScenarioState) -> None:
    """Both runners online in GitHub and their exporters up in Prometheus (else: inconclusive)."""
    env = scenario.env
    timeout = env.profile.budget("runner_ready_timeout_s")
    names = {env.runner_name(r) for r in Role}
    try:
        wait_for(
            lambda: names <= {r["name"] for r in env.github.runners() if r["status"] == "online"},
            "both runners online in GitHub",
            timeout,
        )
        for role in Role:
            wait_for(
                lambda r=role: any(
                    float(s["value"][1]) == 1 for s in env.prometheus.query(env.runner_health_selector(r))
                ),
                f"{role} runner target up in Prometheus",
                timeout,
            )
    except WaitTimeout as exc:
        raise Inconclusive(f"precondition not met, runners are not healthy: {exc}") from exc
    env.journal.info("scenario.baseline", version=env.production.version(), runners=[r.value for r in Role])


@given("an idle runner with the production labels that is not authorized for production")
def unauthorized_runner_idle(scenario: ScenarioState) -> None:
    """The topology's unauthorized runner online and idle in GitHub, and Prometheus seeing it healthy
    but not authorized (else: inconclusive, since nothing would have tempted the pipeline)."""
    env = scenario.env
    names = env.unauthorized_runners()
    if not names:
        raise Inconclusive("the topology has no runner that is not authorized for production")
    timeout = env.profile.budget("runner_ready_timeout_s")
    try:
        wait_for(
            lambda: (
                set(names) <= {r["name"] for r in env.github.runners() if r["status"] == "online" and not r.get("busy")}
            ),
            f"{', '.join(names)} online and idle in GitHub",
            timeout,
        )
        for name in names:
            role = name.removeprefix("runner-")
            selector = f'runner_status{{runner="{role}",authorized_for_prod="false"}} == 1'
            wait_for(lambda s=selector: bool(env.prometheus.query(s)), f"{name} healthy and unauthorized", timeout)
    except WaitTimeout as exc:
        raise Inconclusive(f"precondition not met, the unauthorized runner is not healthy and idle: {exc}") from exc
    env.journal.info("scenario.unauthorized_runners", runners=names)


@then("no job of the deploy ran on a runner not authorized for production")
def authorized_runners_only(scenario: ScenarioState) -> None:
    """Follow the run to its end (a job could start anywhere until then); judge where each job ran."""
    env = scenario.env
    await_run_completed(env, scenario.feed, scenario.run_id, env.profile.budget("deploy_timeout_s"))
    scenario.judge("authorized_only", run_id=scenario.run_id, unauthorized=env.unauthorized_runners())


@when(step("the {role:Role} runner is cut off from GitHub"))
def runner_cut_off(scenario: ScenarioState, role: Role) -> None:
    """Partition the runner from GitHub only: Prometheus still scrapes its exporter."""
    _enter_runner_fault(scenario, role, scenario.env.runner_cut_off_from_github(role))


@then(step("monitoring reports the {role:Role} runner unhealthy within the detection budget"))
def monitoring_reports_unhealthy(scenario: ScenarioState, role: Role) -> None:
    """Watch the exporter's runner_status (recorded) for a 0 within the detection budget; judge it."""
    env = scenario.env
    budget = detection_budget(env.profile.timers)
    onset = scenario.runner_fault(role).onset()
    selector = env.runner_status_selector(role)
    watch_until_down(env, selector, onset, onset + int((budget + 0.5) * 1000))
    scenario.judge("detection", {"detection_budget_s": round(budget, 3)}, selector=selector, what=f"the {role} runner")
    scenario.unhealthy_selector = scenario.unhealthy_selector or selector


@when("Prometheus becomes unreachable")
def prometheus_unreachable(scenario: ScenarioState) -> None:
    """Freeze Prometheus (reverted at scenario end); it took effect when it stops answering."""
    scenario.service_faults["prometheus"] = scenario.cleanup.enter_context(scenario.env.monitoring_unreachable())


@when(step("the {role:Role} runner goes offline"))
def runner_goes_offline(scenario: ScenarioState, role: Role) -> None:
    """Inject the fault (reverted at scenario end) and wait until monitoring sees it (else: inconclusive)."""
    env = scenario.env
    fault = _enter_runner_fault(scenario, role, env.runner_offline(role))
    selector = env.runner_health_selector(role)
    await_seen_unhealthy(env, selector, f"the {role} runner", fault.onset())
    scenario.unhealthy_selector = scenario.unhealthy_selector or selector


@then(step("the deploy runs on the {role:Role} runner"))
def deploy_runs_on(scenario: ScenarioState, role: Role) -> None:
    """Follow the event log until the deploy job starts; judge where it ran."""
    env = scenario.env
    until_ms = scenario.trigger_ms() + int(env.profile.budget("deploy_timeout_s") * 1000)
    await_job_start(env, scenario.feed, scenario.run_id, DEPLOY_JOB, until_ms)
    scenario.judge("placement", run_id=scenario.run_id, job_key=DEPLOY_JOB, expected_runner=env.runner_name(role))


@then("the deploy runs on the secondary runner within the failover budget")
def deploy_runs_on_secondary(scenario: ScenarioState) -> None:
    """Follow the event log for the failover budget after the primary was seen unhealthy; judge failover."""
    env = scenario.env
    budget = env.profile.budget("failover_budget_s")
    if scenario.unhealthy_selector is None:
        raise Inconclusive("no earlier step saw a runner unhealthy, so failover has no start to be timed from")
    onset = min(f.onset() for f in scenario.runner_faults.values())
    seen = await_seen_unhealthy(env, scenario.unhealthy_selector, "the faulted runner", onset)
    await_job_start(env, scenario.feed, scenario.run_id, DEPLOY_JOB, seen + int(budget * 1000) + 500)
    scenario.judge(
        "failover",
        {"failover_budget_s": budget},
        run_id=scenario.run_id,
        job_key=DEPLOY_JOB,
        expected_runner=env.runner_name(Role.SECONDARY),
        unhealthy_selector=scenario.unhealthy_selector,
    )


def _enter_runner_fault(scenario: ScenarioState, role: Role, fault: Fault) -> Fault:
    """Inject `fault` for the scenario's lifetime and remember it by role."""
    scenario.cleanup.enter_context(fault)
    scenario.runner_faults[role] = fault
    return fault
