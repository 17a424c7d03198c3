"""Steps about triggering deploys and what production reports afterwards."""

from __future__ import annotations

from pytest_bdd import then, when

from fixtures.environment import ScenarioState
from harness.actions.deploys import DEPLOY_JOB, await_run_completed, await_run_end, cancel_if_running, trigger_deploy
from harness.core.types import Role
from steps.parsers import step


@when(step('a production deploy of version "{version:Version}" is triggered'))
def deploy_triggered(scenario: ScenarioState, version: str) -> None:
    """Dispatch the deploy workflow; the run is cancelled at scenario end if still going."""
    run_id = trigger_deploy(scenario.env, version)
    scenario.run_ids.append(run_id)
    scenario.versions[run_id] = version
    scenario.cleanup.callback(cancel_if_running, scenario.env, run_id)


@then(step('production reports version "{version:Version}"'))
def production_reports_version(scenario: ScenarioState, version: str) -> None:
    """Wait for the run to complete, sample production's version; judge: success and `version` served."""
    env = scenario.env
    await_run_completed(env, scenario.feed, scenario.run_id, env.profile.budget("deploy_timeout_s"))
    env.production.version()
    scenario.judge("deployed", run_id=scenario.run_id, version=version)


@then("the deploy fails fast without running on any runner")
def deploy_fails_fast(scenario: ScenarioState) -> None:
    """Follow the event log for the fail-fast budget; judge: failed in time, the deploy job never started."""
    env = scenario.env
    budget = env.profile.budget("fail_fast_budget_s")
    await_run_end(env, scenario.feed, scenario.run_id, scenario.trigger_ms() + int(budget * 1000) + 500)
    scenario.judge("fail_fast", {"fail_fast_budget_s": budget}, run_id=scenario.run_id, job_key=DEPLOY_JOB)


@then(step('the diagnosis names "{cause}"'))
def diagnosis_names(scenario: ScenarioState, cause: str) -> None:
    """Judge from the recorded job logs: they name the cause in words a responder can act on."""
    scenario.judge("cause_named", run_id=scenario.run_id, cause=cause)


@then("production still reports the version it had before")
def production_unchanged(scenario: ScenarioState) -> None:
    """Sample production's version; judge: the one recorded before the fault."""
    scenario.env.production.version()
    scenario.judge("unchanged")


@then(step('the production state file records "{version:Version}" deployed from the {role:Role} runner'))
def state_file_records(scenario: ScenarioState, version: str, role: Role) -> None:
    """Read the state file; judge: current = version, previous = what production had, runner named."""
    scenario.env.production_state()
    scenario.judge("state_file", version=version, runner=scenario.env.runner_name(role))


@then("the deploy run fails")
def deploy_run_fails(scenario: ScenarioState) -> None:
    """Wait for the run; judge: it concluded failure (a broken release is not a successful deploy)."""
    env = scenario.env
    await_run_completed(env, scenario.feed, scenario.run_id, env.profile.budget("deploy_timeout_s"))
    scenario.judge("run_failed", run_id=scenario.run_id)


@then("production is healthy")
def production_healthy(scenario: ScenarioState) -> None:
    """Probe production's health and version; judge: healthy."""
    scenario.env.production.healthy()
    scenario.env.production.version()
    scenario.judge("healthy")


@then("the production state file still records the version it had before")
def state_file_unchanged(scenario: ScenarioState) -> None:
    """Read the state file; judge: current_version is still the version production had before."""
    scenario.env.production_state()
    scenario.judge("state_file", unchanged=True)


@then(step('every component reports version "{version:Version}"'))
def components_report(scenario: ScenarioState, version: str) -> None:
    """Read every component (backend and frontend on each host, the schema); judge: all at `version`."""
    scenario.env.components.read()
    scenario.judge("components_at", version=version)


@then("every component still reports the version it had before")
def components_unchanged(scenario: ScenarioState) -> None:
    """Read every component; judge: all at the version production had before the scenario acted."""
    scenario.env.components.read()
    scenario.judge("components_at", baseline=True)


@then("no deploy lock, marker or temporary file is left on any production host")
def no_residue(scenario: ScenarioState) -> None:
    """List open deploy transactions and the pipeline's temporary files on every host; judge: none."""
    scenario.env.production_residue()
    scenario.judge("no_residue")


@when(step('the version that is live, "{version:Version}", is deployed again'))
def redeploy_live_version(scenario: ScenarioState, version: str) -> None:
    """Record each backend's start time, then deploy the live version again and wait for the run."""
    env = scenario.env
    env.backend_start_times()
    deploy_triggered(scenario, version)
    await_run_completed(env, scenario.feed, scenario.run_id, env.profile.budget("deploy_timeout_s"))


@then("the redeploy changed nothing on any host")
def redeploy_changed_nothing(scenario: ScenarioState) -> None:
    """Record each backend's start time again; judge from them and the deploy's recap: nothing changed."""
    scenario.env.backend_start_times()
    scenario.judge("no_change", run_id=scenario.run_id)
