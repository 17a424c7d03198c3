"""Steps about bad releases, rollback and the team channel."""

from __future__ import annotations

from pytest_bdd import then, when

from fixtures.environment import ScenarioState
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
