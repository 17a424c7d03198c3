"""Steps about deploys requested while production is slow: concurrency, attempt timeouts."""

from __future__ import annotations

from pytest_bdd import parsers, then, when

from fixtures.environment import ScenarioState
from harness.actions.deploys import (
    DEPLOY_JOB,
    await_job_log,
    await_job_state,
    await_run_completed,
    cancel_if_running,
    trigger_deploy,
)
from harness.checks.concurrency import check_exclusive, check_superseded
from harness.checks.enforce import enforce


@when("production stops answering")
def production_stops_answering(scenario: ScenarioState) -> None:
    """Freeze the production host (reverted at scenario end, or when it 'answers again')."""
    scenario.values["production_fault"] = scenario.cleanup.enter_context(scenario.env.production_unresponsive())


@when("a stuck deploy holds the production deploy lock")
def stuck_deploy_holds_lock(scenario: ScenarioState) -> None:
    """Hold the host's deploy lock (released by the next step, or at scenario end)."""
    scenario.values["lock_fault"] = scenario.cleanup.enter_context(scenario.env.deploy_lock_held())


@when("the stuck deploy lets go once a deploy attempt has timed out")
def lock_released_after_attempt_timeout(scenario: ScenarioState) -> None:
    """Keep the lock until the deploy log reports an attempt timed out (or the job ended), then release it."""
    env, run_id = scenario.env, scenario.values["run_id"]
    timeout = 2 * env.profile.timer("attempt_timeout_s") + env.profile.budget("deploy_timeout_s")
    seen = await_job_log(env, scenario.feed, run_id, DEPLOY_JOB, "timed out after", timeout)
    env.journal.info("deploy.attempt_timed_out", run_id=run_id, seen_in_log=seen)
    scenario.values["lock_fault"].revert_now()


@when("production answers again")
def production_answers_again(scenario: ScenarioState) -> None:
    """End the production fault window."""
    scenario.values["production_fault"].revert_now()


@when(parsers.parse('production deploys of versions "{first}", "{second}" and "{third}" are requested in turn'))
def deploys_requested_in_turn(scenario: ScenarioState, first: str, second: str, third: str) -> None:
    """Trigger three deploys, each once the previous run's deploy job is running, pending or queued."""
    env, runs = scenario.env, []
    for version in (first, second, third):
        run_id = trigger_deploy(env, version)
        scenario.cleanup.callback(cancel_if_running, scenario.env, run_id)
        runs.append(run_id)
        await_job_state(
            env,
            scenario.feed,
            run_id,
            DEPLOY_JOB,
            ("job.started", "job.pending", "job.queued"),
            env.profile.budget("deploy_timeout_s"),
        )
    scenario.values["runs"] = runs
    scenario.values["run_id"] = runs[-1]


@then("at most one production deploy ran at any instant")
def one_deploy_at_a_time(scenario: ScenarioState) -> None:
    """Verdict from the event log: no two deploy jobs' [started, completed] intervals overlap."""
    env, runs = scenario.env, scenario.values["runs"]
    for run_id in runs:
        await_run_completed(env, scenario.feed, run_id, env.profile.budget("deploy_timeout_s"))
    enforce(env, check_exclusive(scenario.feed.events(), runs, DEPLOY_JOB), "exclusive")


@then("the older pending deploy was cancelled in favour of the newest")
def older_pending_cancelled(scenario: ScenarioState) -> None:
    """Verdict: the second run's deploy never ran and was cancelled; the third's ran."""
    _, older, newer = scenario.values["runs"]
    enforce(scenario.env, check_superseded(scenario.feed.events(), older, newer, DEPLOY_JOB), "superseded", older)
