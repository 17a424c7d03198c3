"""Steps about deploy credentials and the failure diagnosis."""

from __future__ import annotations

from pytest_bdd import parsers, then, when

from fixtures.environment import ScenarioState
from harness.checks.diagnosis import check_classification
from harness.checks.enforce import enforce


@when("the deploy certificate has expired")
def deploy_certificate_expired(scenario: ScenarioState) -> None:
    """Hand the pipeline an expired deploy certificate (the valid one is restored at scenario end)."""
    scenario.cleanup.enter_context(scenario.env.deploy_certificate_expired())


@then(
    parsers.parse('the failure is classified "{failure_class}" with severity "{severity}" and the runbook "{runbook}"')
)
def failure_classified(scenario: ScenarioState, failure_class: str, severity: str, runbook: str) -> None:
    """Verdict from the run's job summaries: the diagnosis names class, severity and runbook."""
    env, run_id = scenario.env, scenario.values["run_id"]
    summaries = {job["name"]: env.github.job_detail(job["id"]).get("summary", "") for job in env.github.jobs(run_id)}
    result = check_classification(summaries, expected_class=failure_class, severity=severity, runbook=runbook)
    enforce(env, result, "diagnosis", run_id)
