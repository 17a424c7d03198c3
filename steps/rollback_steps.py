"""Steps about bad releases, rollback and the team channel."""

from __future__ import annotations

from pytest_bdd import parsers, then, when

from fixtures.environment import ScenarioState
from harness.checks.enforce import enforce
from harness.checks.notifications import check_team_told


@when(parsers.parse('release "{version}" is broken in production'))
def release_broken(scenario: ScenarioState, version: str) -> None:
    """Once installed, `version` fails its health check (the marker is removed at scenario end)."""
    scenario.cleanup.enter_context(scenario.env.release_broken(version))


@then(parsers.parse('the team channel is told the deploy of "{version}" was rolled back'))
def team_told_rollback(scenario: ScenarioState, version: str) -> None:
    """Verdict from the webhook sink: a rollback message about `version`, and no success message."""
    env = scenario.env
    scenario.oncall.poll()
    result = check_team_told(
        scenario.oncall.messages(), event="rollback", version=version, after_ms=scenario.values["trigger_ms"]
    )
    enforce(env, result, "team_notification", scenario.values["run_id"])
