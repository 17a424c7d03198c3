"""Steps about deploys cut off half-way (US3): production sampled throughout, a disruption at a named step."""

from __future__ import annotations

from pytest_bdd import given, then, when

from fixtures.environment import ScenarioState
from harness.actions.deploys import DEPLOY_JOB, await_job_log, await_run_completed, deploy_runner
from harness.actions.sampler import ComponentSampler
from harness.checks.converged import Sample
from harness.core.errors import ConfigError, Inconclusive
from harness.core.types import Role
from harness.core.waiting import now_ms, watch
from steps.parsers import Disruption, step

SAMPLING_PERIOD_S = 0.1


@given("every production component is sampled continuously")
@when("every production component is sampled continuously")
def components_sampled(scenario: ScenarioState) -> None:
    """Sample every component's version every 100 ms until the scenario judges (or ends)."""
    sampler = ComponentSampler(scenario.env.journal, scenario.env.components.read, SAMPLING_PERIOD_S).start()
    scenario.sampler = sampler
    scenario.cleanup.callback(sampler.stop)


@when(step('the deploy reaches its "{deploy_step}" step'))
def deploy_reaches_step(scenario: ScenarioState, deploy_step: str) -> None:
    """Follow the deploy job's log until the pipeline announces the step (DCH-STEP <name>)."""
    env = scenario.env
    steps = env.pipeline.deploy_steps()
    if deploy_step not in steps:
        raise ConfigError(
            f"scenario {scenario.name!r}: the pipeline has no deploy step {deploy_step!r}; it has {steps}"
        )
    marker = f"DCH-STEP {deploy_step}"
    seen = await_job_log(
        env, scenario.feed, scenario.run_id, DEPLOY_JOB, marker, env.profile.budget("deploy_timeout_s")
    )
    env.journal.info("deploy.step_reached", run_id=scenario.run_id, step=deploy_step, seen=seen)
    scenario.interrupted_at = deploy_step
    if not seen:
        raise Inconclusive(f"the deploy never logged {marker!r}, so it could not be cut off at that step")


@when(step("the deploy is cut off by {disruption:Disruption}"))
def deploy_cut_off(scenario: ScenarioState, disruption: Disruption) -> None:
    """Disrupt the running deploy; a disruption that ends (freeze, cut, hang) ends when the pipeline noticed it."""
    env = scenario.env
    runner = deploy_runner(scenario.feed, scenario.run_id, DEPLOY_JOB)
    if runner is None:
        raise Inconclusive("the deploy job has no runner to disrupt (it never started)")
    role = Role(runner.removeprefix("runner-"))
    timers = env.profile.timers
    if disruption is Disruption.RUNNER_KILLED:
        # permanent for the deploy: the host comes back only when the scenario ends
        scenario.disruption = scenario.cleanup.enter_context(env.runner_killed(role))
        return
    if disruption is Disruption.RUNNER_FROZEN:
        fault = scenario.cleanup.enter_context(env.runner_offline(role))
        until = now_ms() + int((timers["lease_timeout_s"] + timers["lease_renew_s"] + 5) * 1000)
        watch(lambda: _job_ended(scenario), until, 0.2)  # GitHub declares the job lost after its lease
    elif disruption is Disruption.NETWORK_CUT:
        fault = scenario.cleanup.enter_context(env.runner_cut_off_from_production(role))
        until = now_ms() + int((timers["attempt_timeout_s"] + 5) * 1000)
        watch(lambda: _attempt_failed(scenario), until, 0.2)
    else:
        fault = scenario.cleanup.enter_context(env.production_unresponsive())
        await_job_log(
            env, scenario.feed, scenario.run_id, DEPLOY_JOB, "timed out after", timers["attempt_timeout_s"] + 10
        )
    fault.revert_now()
    scenario.disruption = fault


@then("every component ends at the version it had before or at the new one within the recovery budget")
def converged(scenario: ScenarioState) -> None:
    """Sample until production is quiescent (run over, no open deploy transaction) or the budget ends; judge."""
    env, fault = scenario.env, scenario.disruption
    if fault is None or scenario.sampler is None:
        raise ConfigError(f"scenario {scenario.name!r}: needs production sampled and a disruption before this step")
    budget = env.profile.budget("recovery_budget_s")
    settled = fault.reverted_ms if fault.reverted_ms is not None else fault.onset()
    deadline = settled + int(budget * 1000)
    await_run_completed(env, scenario.feed, scenario.run_id, max(0.0, (deadline - now_ms()) / 1000))
    sampler = scenario.sampler

    def settled_at_one_version() -> bool:  # nothing open that could still change production, and it agrees
        last = sampler.last
        uniform = last is not None and Sample(0, dict(last.versions)).uniform is not None
        return uniform and bool(env.production_quiescence().get("quiescent"))

    watch(settled_at_one_version, deadline + 1000, 0.5)
    sampler.stop()
    before, target, kind = _endpoints(scenario)
    scenario.judge(
        "converged",
        {"recovery_budget_s": budget},
        before=before,
        target=target,
        fault_id=fault.fault_id,
        step=scenario.interrupted_at,
        disruption=fault.name,
        run_id=scenario.run_id,
        run_kind=kind,
    )


def _endpoints(scenario: ScenarioState) -> tuple[str | None, str, str]:
    """(version before, version targeted, run kind) of the run that was cut off: a deploy goes from the
    baseline to its version; a rollback from the release it leaves back to the baseline."""
    run = scenario.run_id
    if run in scenario.rollbacks:
        target = scenario.baseline_version()
        if target is None:  # production answered with no single version before the scenario
            raise Inconclusive("production had no single version before the scenario: nothing to roll back to")
        return scenario.rollbacks[run], target, "rollback"
    if run not in scenario.versions:
        raise ConfigError(f"scenario {scenario.name!r}: the run cut off is neither a deploy nor a rollback of one")
    return scenario.baseline_version(), scenario.versions[run], "deploy"


def _job_ended(scenario: ScenarioState) -> bool:
    scenario.feed.poll()
    return any(
        e["type"] == "job.completed" and e.get("run_id") == scenario.run_id and e.get("job_key") == DEPLOY_JOB
        for e in scenario.feed.events()
    )


def _attempt_failed(scenario: ScenarioState) -> bool:
    return _job_ended(scenario) or await_job_log(
        scenario.env, scenario.feed, scenario.run_id, DEPLOY_JOB, "deploy attempt", 0
    )
