"""Steps about deploys and production."""

from __future__ import annotations

from dataclasses import asdict

from pytest_bdd import parsers, then, when

from fixtures.environment import ScenarioState
from harness.checks.concurrency import check_exclusive, check_superseded
from harness.checks.diagnosis import check_classification
from harness.checks.fail_fast import check_fail_fast
from harness.checks.notifications import check_team_told
from harness.checks.success_rate import check_durations, check_success_rate
from harness.claims import CONFIDENCE, DEPLOY_P50_BUDGET_S, DEPLOY_P95_BUDGET_S, SUCCESS_RATE_MIN
from harness.deploys import (
    DEPLOY_JOB,
    await_job_log,
    await_job_state,
    await_run_completed,
    await_run_end,
    run_diagnostics,
    trigger_deploy,
)
from harness.errors import PipelineFinding
from harness.report.attach import attach_json
from harness.report.verdicts import enforce
from harness.stats import quantile_trials_needed
from harness.trials import run_trials


@when(parsers.parse('a production deploy of version "{version}" is triggered'))
def deploy_triggered(scenario: ScenarioState, version: str) -> None:
    """Dispatch the deploy workflow; the run is cancelled at scenario end if still going."""
    run_id = trigger_deploy(scenario.env, version)
    trigger = scenario.env.journal.last("deploy.trigger", "invoke")
    assert trigger is not None
    scenario.values["trigger_ms"] = trigger["ts_ms"]
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


@then("the deploy fails fast without running on any runner")
def deploy_fails_fast(scenario: ScenarioState) -> None:
    """Verdict from the event log: the run failed within fail_fast_budget_s and the deploy job never started."""
    env, v = scenario.env, scenario.values
    budget = env.profile.budget("fail_fast_budget_s")
    observed = await_run_end(env, scenario.feed, v["run_id"], v["trigger_ms"] + int(budget * 1000) + 500)
    result = check_fail_fast(scenario.feed.events(), run_id=v["run_id"], job_key=DEPLOY_JOB,
                             trigger_ms=v["trigger_ms"], budget_s=budget, observed_until_ms=observed)
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
        raise PipelineFinding(f"FINDING: production serves {served!r}, but the deploy should not have touched it "
                              f"(it served {before!r} before)", {"served": served, "before": before})


@then(parsers.parse('the production state file records "{version}" deployed from the {role} runner'))
def state_file_records(scenario: ScenarioState, version: str, role: str) -> None:
    """The pipeline's state file advanced: current = version, previous = what production had, runner named."""
    env = scenario.env
    state = env.production_state()
    expected = {"current_version": version, "previous_version": scenario.values["version_before"],
                "deploy_runner": env.runner_name(role)}
    actual = {key: state.get(key) for key in expected}
    env.journal.info("production.state", state=state)
    attach_json("production state file", state, env.secrets())
    if actual != expected:
        raise PipelineFinding(f"FINDING: the production state file records {actual}, expected {expected}",
                              {"state": state})


@when("the deploy certificate has expired")
def deploy_certificate_expired(scenario: ScenarioState) -> None:
    """Hand the pipeline an expired deploy certificate (the valid one is restored at scenario end)."""
    scenario.cleanup.enter_context(scenario.env.deploy_certificate_expired())


@then(parsers.parse('the failure is classified "{failure_class}" with severity "{severity}" and the runbook '
                    '"{runbook}"'))
def failure_classified(scenario: ScenarioState, failure_class: str, severity: str, runbook: str) -> None:
    """Verdict from the run's job summaries: the diagnosis names class, severity and runbook."""
    env, run_id = scenario.env, scenario.values["run_id"]
    summaries = {job["name"]: env.github.job_detail(job["id"]).get("summary", "") for job in env.github.jobs(run_id)}
    result = check_classification(summaries, expected_class=failure_class, severity=severity, runbook=runbook)
    enforce(env, result, "diagnosis", run_id)


@when(parsers.parse('release "{version}" is broken in production'))
def release_broken(scenario: ScenarioState, version: str) -> None:
    """Once installed, `version` fails its health check (the marker is removed at scenario end)."""
    scenario.cleanup.enter_context(scenario.env.release_broken(version))


@then("the deploy run fails")
def deploy_run_fails(scenario: ScenarioState) -> None:
    """The run concludes failure (a broken release must not be reported as a successful deploy)."""
    env, run_id = scenario.env, scenario.values["run_id"]
    run = await_run_completed(env, scenario.feed, run_id, env.profile.budget("deploy_timeout_s"))
    if run.get("conclusion") != "failure":
        raise PipelineFinding(f"FINDING: the deploy of a broken release concluded {run.get('conclusion')!r}, "
                              "not failure", {"run": run, "diagnostics": run_diagnostics(env, run_id)})


@then("production is healthy")
def production_healthy(scenario: ScenarioState) -> None:
    """The production health endpoint answers 200."""
    if not scenario.env.production.healthy():
        raise PipelineFinding(f"FINDING: production is unhealthy (serving {scenario.env.production.version()!r})")


@then(parsers.parse('the team channel is told the deploy of "{version}" was rolled back'))
def team_told_rollback(scenario: ScenarioState, version: str) -> None:
    """Verdict from the webhook sink: a rollback message about `version`, and no success message."""
    env = scenario.env
    scenario.oncall.poll()
    result = check_team_told(scenario.oncall.messages(), event="rollback", version=version,
                             after_ms=scenario.values["trigger_ms"])
    enforce(env, result, "team_notification", scenario.values["run_id"])


@then("the production state file still records the version it had before")
def state_file_unchanged(scenario: ScenarioState) -> None:
    """current_version in the state file is still what production served before the deploy."""
    env, before = scenario.env, scenario.values["version_before"]
    state = env.production_state()
    env.journal.info("production.state", state=state)
    if state.get("current_version") != before:
        raise PipelineFinding(f"FINDING: the state file records current_version {state.get('current_version')!r}, "
                              f"but production should still be at {before!r}", {"state": state})


@when(parsers.parse("every {nth:d}rd SSH connection from the runners to production is reset"))
def ssh_connections_reset(scenario: ScenarioState, nth: int) -> None:
    """Deterministically reset every nth SSH connection to production (reverted at scenario end)."""
    scenario.cleanup.enter_context(scenario.env.ssh_to_production_flaky(nth))


@when("production deploys run back to back until the success rate is decided")
def deploys_back_to_back(scenario: ScenarioState) -> None:
    """Sequential deploy trials, stopped once the rate claim is decided (or at the profile's maximum)."""
    env = scenario.env
    scenario.values["trials"] = run_trials(
        env, scenario.feed, version_prefix="5.0", max_trials=int(env.profile.budget("success_trials_max")),
        target=SUCCESS_RATE_MIN, confidence=CONFIDENCE,
        min_trials_to_pass=quantile_trials_needed(0.95, CONFIDENCE))  # so SC-002's p95 can be bounded too


@then("at least 95 % of the deploys succeed, judged on the lower confidence bound")
def success_rate_met(scenario: ScenarioState) -> None:
    """SC-001 verdict from the trials: PASSED only when the Wilson lower bound clears the target."""
    trials = scenario.values["trials"]
    result = check_success_rate([t.succeeded for t in trials], target=SUCCESS_RATE_MIN, confidence=CONFIDENCE)
    result.evidence["failed_trials"] = [asdict(t) for t in trials if not t.succeeded]
    enforce(scenario.env, result, "success_rate", next((t.run_id for t in trials if not t.succeeded), None))


@then("the deploy durations are within the p50 and p95 budgets")
def durations_within_budget(scenario: ScenarioState) -> None:
    """SC-002 verdict: median and p95 of deploy job durations, with distribution-free upper bounds."""
    durations = [t.job_seconds for t in scenario.values["trials"] if t.job_seconds is not None]
    enforce(scenario.env, check_durations(durations, p50_budget_s=DEPLOY_P50_BUDGET_S,
                                          p95_budget_s=DEPLOY_P95_BUDGET_S, confidence=CONFIDENCE), "durations")


@when("production stops answering")
def production_stops_answering(scenario: ScenarioState) -> None:
    """Freeze the production host (reverted at scenario end, or when it 'answers again')."""
    scenario.values["production_fault"] = scenario.cleanup.enter_context(scenario.env.production_unresponsive())


@when("production answers again once a deploy attempt has timed out")
def production_answers_after_attempt_timeout(scenario: ScenarioState) -> None:
    """Keep production frozen until the deploy log reports an attempt timed out (or the job ended)."""
    env, run_id = scenario.env, scenario.values["run_id"]
    timeout = 2 * env.profile.timer("attempt_timeout_s") + env.profile.budget("deploy_timeout_s")
    seen = await_job_log(env, scenario.feed, run_id, DEPLOY_JOB, "timed out after", timeout)
    env.journal.info("deploy.attempt_timed_out", run_id=run_id, seen_in_log=seen)
    scenario.values["production_fault"].revert_now()


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
        scenario.cleanup.callback(_cancel_if_running, scenario, run_id)
        runs.append(run_id)
        await_job_state(env, scenario.feed, run_id, DEPLOY_JOB, ("job.started", "job.pending", "job.queued"),
                        env.profile.budget("deploy_timeout_s"))
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


def _cancel_if_running(scenario: ScenarioState, run_id: int) -> None:
    run = scenario.env.github.run(run_id)
    if run.get("status") != "completed":
        scenario.env.journal.info("deploy.cancel", run_id=run_id, reason="scenario ended")
        scenario.env.github.cancel(run_id)
