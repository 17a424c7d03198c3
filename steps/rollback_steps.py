"""Steps about bad releases, rollback and the team channel."""

from __future__ import annotations

from pytest_bdd import then, when

from fixtures.environment import ScenarioState
from harness.actions.deploys import await_run_completed, cancel_if_running, trigger_rollback
from steps.parsers import step


@when(step('release "{version:Version}" is broken in production'))
def release_broken(scenario: ScenarioState, version: str) -> None:
    """Once installed, `version` fails its health check (the marker is removed at scenario end)."""
    scenario.service_faults["release"] = scenario.cleanup.enter_context(scenario.env.release_broken(version))


@then(step('the team channel is told the deploy of "{version:Version}" was rolled back'))
def team_told_rollback(scenario: ScenarioState, version: str) -> None:
    """Read the webhook sink (journalled); judge: a rollback message about `version`, and no success message."""
    scenario.oncall.poll()
    scenario.oncall.mark_observed()
    scenario.judge("team_notification", run_id=scenario.run_id, event="rollback", version=version)


@when(step('the migration of release "{version:Version}" fails'))
def migration_fails(scenario: ScenarioState, version: str) -> None:
    """The artifact store serves `version` with an up.sql that fails half-way (reverted at scenario end)."""
    scenario.service_faults["migration"] = scenario.cleanup.enter_context(scenario.env.release_migration_fails(version))


@when("production is rolled back")
def production_rolled_back(scenario: ScenarioState) -> None:
    """Dispatch the rollback workflow with no version (the pipeline returns to the state file's
    previous_version); the run is cancelled at scenario end if still going."""
    deployed = [scenario.versions[r] for r in scenario.run_ids if r in scenario.versions]
    run_id = trigger_rollback(scenario.env)
    scenario.run_ids.append(run_id)
    if deployed:
        scenario.rollbacks[run_id] = deployed[-1]
    scenario.cleanup.callback(cancel_if_running, scenario.env, run_id)


@then("production is back at the version it had before")
def production_back_at_baseline(scenario: ScenarioState) -> None:
    """Wait for the rollback run, sample production's version; judge: success and the baseline served."""
    env = scenario.env
    await_run_completed(env, scenario.feed, scenario.run_id, env.profile.budget("deploy_timeout_s"))
    env.production.version()
    scenario.judge("deployed", run_id=scenario.run_id, version=scenario.baseline_version())


@then("every component reports the version it had before")
def components_back_at_baseline(scenario: ScenarioState) -> None:
    """Read every component (backend and frontend on each host, the schema); judge: all at the baseline."""
    scenario.env.components.read()
    scenario.judge("components_at", baseline=True)


@then(
    step('the production state file records the version it had before as current and "{version:Version}" as previous')
)
def state_file_after_rollback(scenario: ScenarioState, version: str) -> None:
    """Read the state file; judge: current_version = the baseline, previous_version = `version` (the release left)."""
    scenario.env.production_state()
    scenario.judge("state_versions", current_is_baseline=True, previous=version)


@then(
    step('the production state file records "{version:Version}" as current and the version it had before as previous')
)
def state_file_after_redeploy(scenario: ScenarioState, version: str) -> None:
    """Read the state file; judge: current_version = `version`, previous_version = the baseline."""
    scenario.env.production_state()
    scenario.judge("state_versions", current=version, previous_is_baseline=True)
