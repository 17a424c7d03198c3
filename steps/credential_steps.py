"""Steps about deploy credentials and the failure diagnosis."""

from __future__ import annotations

from pytest_bdd import then, when

from fixtures.environment import ScenarioState
from steps.parsers import step


@when("the deploy certificate has expired")
def deploy_certificate_expired(scenario: ScenarioState) -> None:
    """Hand the pipeline an expired deploy certificate (the valid one is restored at scenario end)."""
    scenario.service_faults["certificate"] = scenario.cleanup.enter_context(scenario.env.deploy_certificate_expired())


@then(
    step('the failure is classified "{failure_class:Word}" with severity "{severity:Word}" and the runbook "{runbook}"')
)
def failure_classified(scenario: ScenarioState, failure_class: str, severity: str, runbook: str) -> None:
    """Judge from the run's recorded job summaries: the diagnosis names class, severity and runbook."""
    scenario.judge("diagnosis", run_id=scenario.run_id, failure_class=failure_class, severity=severity, runbook=runbook)
