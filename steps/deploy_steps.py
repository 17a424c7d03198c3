"""Steps about triggering deploys and what production reports afterwards."""

from __future__ import annotations

from pytest_bdd import parsers, then, when

from fixtures.environment import ScenarioState
from harness.actions.deploys import (
    DEPLOY_JOB,
    await_run_completed,
    await_run_end,
    cancel_if_running,
    run_diagnostics,
    trigger_deploy,
)
from harness.checks.enforce import enforce
from harness.checks.fail_fast import check_fail_fast
from harness.core.errors import PipelineFinding
from harness.report.attach import attach_json


@when(parsers.parse('a production deploy of version "{version}" is triggered'))
def deploy_triggered(scenario: ScenarioState, version: str) -> None:
    """Dispatch the deploy workflow; the run is cancelled at scenario end if still going."""
    run_id = trigger_deploy(scenario.env, version)
    trigger = scenario.env.journal.last("deploy.trigger", "invoke")
    assert trigger is not None
    scenario.values["trigger_ms"] = trigger["ts_ms"]
    scenario.values["run_id"] = run_id
    scenario.values["version"] = version
    scenario.cleanup.callback(cancel_if_running, scenario.env, run_id)


@then(parsers.parse('production reports version "{version}"'))
def production_reports_version(scenario: ScenarioState, version: str) -> None:
    """The run succeeded and the production host serves `version`."""
    env, run_id = scenario.env, scenario.values["run_id"]
    run = await_run_completed(env, scenario.feed, run_id, env.profile.budget("deploy_timeout_s"))
    served = env.production.version()
    env.journal.info("production.version", served=served, expected=version, run_conclusion=run.get("conclusion"))
    attach_json(
        "production after deploy",
        {"served_version": served, "expected": version, "run_conclusion": run.get("conclusion")},
        env.secrets(),
    )
    if run.get("conclusion") != "success" or served != version:
        evidence = {"run": run, "served_version": served, "diagnostics": run_diagnostics(env, run_id)}
        attach_json("deploy evidence", evidence, env.secrets())
        raise PipelineFinding(
            f"FINDING: production serves {served!r} and the deploy run concluded "
            f"{run.get('conclusion')!r}; expected {version!r} and success",
            evidence,
        )


@then("the deploy fails fast without running on any runner")
def deploy_fails_fast(scenario: ScenarioState) -> None:
    """Verdict from the event log: the run failed within fail_fast_budget_s and the deploy job never started."""
    env, v = scenario.env, scenario.values
    budget = env.profile.budget("fail_fast_budget_s")
    observed = await_run_end(env, scenario.feed, v["run_id"], v["trigger_ms"] + int(budget * 1000) + 500)
    result = check_fail_fast(
        scenario.feed.events(),
        run_id=v["run_id"],
        job_key=DEPLOY_JOB,
        trigger_ms=v["trigger_ms"],
        budget_s=budget,
        observed_until_ms=observed,
    )
    enforce(env, result, "fail_fast", v["run_id"])


@then(parsers.parse('the diagnosis names "{cause}"'))
def diagnosis_names(scenario: ScenarioState, cause: str) -> None:
    """The failed run's job logs say what went wrong, in words a responder can act on."""
    env = scenario.env
    diagnostics = run_diagnostics(env, scenario.values["run_id"])
    logs = "\n".join(job["log_tail"] for job in diagnostics["jobs"])
    env.journal.info("check.diagnosis", expected=cause, found=cause.lower() in logs.lower())
    if cause.lower() not in logs.lower():
        attach_json("diagnosis evidence", diagnostics, env.secrets())
        raise PipelineFinding(f"FINDING: the failed deploy's logs do not name the cause {cause!r}", diagnostics)


@then("production still reports the version it had before")
def production_unchanged(scenario: ScenarioState) -> None:
    """Production serves the version recorded before the fault."""
    env, before = scenario.env, scenario.values["version_before"]
    served = env.production.version()
    env.journal.info("production.version", served=served, expected=before)
    if served != before:
        raise PipelineFinding(
            f"FINDING: production serves {served!r}, but the deploy should not have touched it "
            f"(it served {before!r} before)",
            {"served": served, "before": before},
        )


@then(parsers.parse('the production state file records "{version}" deployed from the {role} runner'))
def state_file_records(scenario: ScenarioState, version: str, role: str) -> None:
    """The pipeline's state file advanced: current = version, previous = what production had, runner named."""
    env = scenario.env
    state = env.production_state()
    expected = {
        "current_version": version,
        "previous_version": scenario.values["version_before"],
        "deploy_runner": env.runner_name(role),
    }
    actual = {key: state.get(key) for key in expected}
    env.journal.info("production.state", state=state)
    attach_json("production state file", state, env.secrets())
    if actual != expected:
        raise PipelineFinding(
            f"FINDING: the production state file records {actual}, expected {expected}", {"state": state}
        )


@then("the deploy run fails")
def deploy_run_fails(scenario: ScenarioState) -> None:
    """The run concludes failure (a broken release must not be reported as a successful deploy)."""
    env, run_id = scenario.env, scenario.values["run_id"]
    run = await_run_completed(env, scenario.feed, run_id, env.profile.budget("deploy_timeout_s"))
    if run.get("conclusion") != "failure":
        raise PipelineFinding(
            f"FINDING: the deploy of a broken release concluded {run.get('conclusion')!r}, not failure",
            {"run": run, "diagnostics": run_diagnostics(env, run_id)},
        )


@then("production is healthy")
def production_healthy(scenario: ScenarioState) -> None:
    """The production health endpoint answers 200."""
    if not scenario.env.production.healthy():
        raise PipelineFinding(f"FINDING: production is unhealthy (serving {scenario.env.production.version()!r})")


@then("the production state file still records the version it had before")
def state_file_unchanged(scenario: ScenarioState) -> None:
    """current_version in the state file is still what production served before the deploy."""
    env, before = scenario.env, scenario.values["version_before"]
    state = env.production_state()
    env.journal.info("production.state", state=state)
    if state.get("current_version") != before:
        raise PipelineFinding(
            f"FINDING: the state file records current_version {state.get('current_version')!r}, "
            f"but production should still be at {before!r}",
            {"state": state},
        )
