"""Steps about deploys requested while production is slow: concurrency, attempt timeouts."""

from __future__ import annotations

from pytest_bdd import then, when

from fixtures.environment import ScenarioState
from harness.actions.deploys import (
    DEPLOY_JOB,
    await_job_state,
    await_run_completed,
    cancel_if_running,
    trigger_deploy,
)
from steps.parsers import step


@when("production stops answering")
def production_stops_answering(scenario: ScenarioState) -> None:
    """Freeze the production host (reverted at scenario end, or when it 'answers again')."""
    scenario.service_faults["production"] = scenario.cleanup.enter_context(scenario.env.production_unresponsive())


@when("a stuck deploy holds the production deploy lock")
def stuck_deploy_holds_lock(scenario: ScenarioState) -> None:
    """Hold the host's deploy lock (released by the next step, or at scenario end)."""
    scenario.service_faults["deploy lock"] = scenario.cleanup.enter_context(scenario.env.deploy_lock_held())


@when("production answers again")
def production_answers_again(scenario: ScenarioState) -> None:
    """End the production fault window."""
    scenario.service_fault("production").revert_now()


@when(
    step(
        'production deploys of versions "{first:Version}", "{second:Version}" and "{third:Version}" '
        "are requested in turn"
    )
)
def deploys_requested_in_turn(scenario: ScenarioState, first: str, second: str, third: str) -> None:
    """Trigger three deploys, each once the previous run's deploy job is running, pending or queued."""
    env = scenario.env
    for version in (first, second, third):
        run_id = trigger_deploy(env, version)
        scenario.cleanup.callback(cancel_if_running, env, run_id)
        scenario.run_ids.append(run_id)
        scenario.versions[run_id] = version
        await_job_state(
            env,
            scenario.feed,
            run_id,
            DEPLOY_JOB,
            ("job.started", "job.pending", "job.queued"),
            env.profile.budget("deploy_timeout_s"),
        )


@then("at most one production deploy ran at any instant")
def one_deploy_at_a_time(scenario: ScenarioState) -> None:
    """Wait for every run to complete; judge from the event log: no two deploy jobs overlapped."""
    env = scenario.env
    for run_id in scenario.run_ids:
        await_run_completed(env, scenario.feed, run_id, env.profile.budget("deploy_timeout_s"))
    scenario.judge("exclusive", run_ids=scenario.run_ids, job_key=DEPLOY_JOB)


@then("the older pending deploy was cancelled in favour of the newest")
def older_pending_cancelled(scenario: ScenarioState) -> None:
    """Judge: the second run's deploy never ran and was cancelled; the third's ran."""
    _, older, newer = scenario.run_ids[-3:]
    scenario.judge("superseded", older=older, newer=newer, job_key=DEPLOY_JOB, run_id=older)
