"""Steps about deploys and production."""

from __future__ import annotations

from pytest_bdd import parsers, then, when

from fixtures.environment import ScenarioState
from harness.deploys import await_run_completed, run_diagnostics, trigger_deploy
from harness.errors import PipelineFinding
from harness.report.attach import attach_json


@when(parsers.parse('a production deploy of version "{version}" is triggered'))
def deploy_triggered(scenario: ScenarioState, version: str) -> None:
    """Dispatch the deploy workflow; the run is cancelled at scenario end if still going."""
    run_id = trigger_deploy(scenario.env, version)
    scenario.values["run_id"] = run_id
    scenario.values["version"] = version
    scenario.cleanup.callback(_cancel_if_running, scenario, run_id)


@then(parsers.parse('production reports version "{version}"'))
def production_reports_version(scenario: ScenarioState, version: str) -> None:
    """The run succeeded and the production host serves `version`."""
    env, run_id = scenario.env, scenario.values["run_id"]
    run = await_run_completed(env, scenario.feed, run_id, env.profile.budget("deploy_timeout_s"))
    served = env.production.version()
    env.journal.info("production.version", served=served, expected=version, run_conclusion=run.get("conclusion"))
    attach_json("production after deploy", {"served_version": served, "expected": version,
                                            "run_conclusion": run.get("conclusion")}, env.secrets())
    if run.get("conclusion") != "success" or served != version:
        evidence = {"run": run, "served_version": served, "diagnostics": run_diagnostics(env, run_id)}
        attach_json("deploy evidence", evidence, env.secrets())
        raise PipelineFinding(f"FINDING: production serves {served!r} and the deploy run concluded "
                              f"{run.get('conclusion')!r}; expected {version!r} and success", evidence)


def _cancel_if_running(scenario: ScenarioState, run_id: int) -> None:
    run = scenario.env.github.run(run_id)
    if run.get("status") != "completed":
        scenario.env.journal.info("deploy.cancel", run_id=run_id, reason="scenario ended")
        scenario.env.github.cancel(run_id)
