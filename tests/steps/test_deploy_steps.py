"""steps/deploy_steps.py on a FakeEnvironment: the steps act and record, `judge` gives the verdict."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from fixtures.environment import ScenarioState
from harness.core.errors import ConfigError, Inconclusive, PipelineFinding
from harness.core.types import Role
from harness.topology.fake_environment import FakeEnvironment
from steps import deploy_steps, runner_steps

Verdicts = Callable[[str], list[dict[str, Any]]]


def test_deploy_triggered_records_the_run_and_cancels_it_at_scenario_end(
    env: FakeEnvironment, state: ScenarioState
) -> None:
    deploy_steps.deploy_triggered(state, "1.1.0")

    [dispatch] = env.fake_github.dispatches
    assert dispatch["inputs"] == {"version": "1.1.0"}
    assert state.run_ids == [dispatch["run_id"]]
    assert state.run_id == dispatch["run_id"]
    assert state.versions == {dispatch["run_id"]: "1.1.0"}
    trigger = env.journal.last("deploy.trigger", "ok")
    assert trigger is not None and trigger["run_id"] == dispatch["run_id"]
    state.cleanup.close()  # scenario end: the run never completed, so it is cancelled
    assert env.fake_github.runs[state.run_id]["conclusion"] == "cancelled"
    assert env.journal.last("deploy.cancel") is not None


def test_a_completed_run_is_not_cancelled_at_scenario_end(env: FakeEnvironment, state: ScenarioState) -> None:
    deploy_steps.deploy_triggered(state, "1.1.0")
    env.complete_deploy(state.run_id)
    state.cleanup.close()
    assert env.fake_github.runs[state.run_id]["conclusion"] == "success"
    assert env.journal.last("deploy.cancel") is None


def test_production_reports_version_passes_when_the_run_succeeded_and_the_version_is_served(
    env: FakeEnvironment, state: ScenarioState, verdicts: Verdicts
) -> None:
    deploy_steps.deploy_triggered(state, "1.1.0")
    env.complete_deploy(state.run_id)

    deploy_steps.production_reports_version(state, "1.1.0")

    [result] = verdicts("deployed")
    assert result["verdict"] == "passed"
    assert result["measured"] == {"served_version": "1.1.0", "run_conclusion": "success"}


def test_production_reports_version_is_a_finding_when_production_serves_another_version(
    env: FakeEnvironment, state: ScenarioState, verdicts: Verdicts
) -> None:
    deploy_steps.deploy_triggered(state, "1.1.0")
    env.fake_github.set_run(state.run_id, status="completed", conclusion="success")  # ...but nothing installed

    with pytest.raises(PipelineFinding, match=re.escape("production serves '1.0.0'")):
        deploy_steps.production_reports_version(state, "1.1.0")

    [result] = verdicts("deployed")
    assert result["verdict"] == "failed"
    assert result["measured"]["served_version"] == "1.0.0"


def test_production_reports_version_is_a_finding_when_the_run_failed(
    env: FakeEnvironment, state: ScenarioState, verdicts: Verdicts
) -> None:
    deploy_steps.deploy_triggered(state, "1.1.0")
    env.complete_deploy(state.run_id, conclusion="failure")

    with pytest.raises(PipelineFinding, match="concluded 'failure'"):
        deploy_steps.production_reports_version(state, "1.1.0")
    assert [r["verdict"] for r in verdicts("deployed")] == ["failed"]


def test_production_unchanged_passes_against_the_baseline(
    env: FakeEnvironment, state: ScenarioState, verdicts: Verdicts
) -> None:
    runner_steps.healthy_runners(state)
    deploy_steps.production_unchanged(state)
    assert [r["verdict"] for r in verdicts("unchanged")] == ["passed"]


def test_production_unchanged_is_a_finding_when_production_moved(
    env: FakeEnvironment, state: ScenarioState, verdicts: Verdicts
) -> None:
    runner_steps.healthy_runners(state)
    env.fake_production.version = "6.6.6"
    with pytest.raises(PipelineFinding, match=re.escape("6.6.6")):
        deploy_steps.production_unchanged(state)
    [result] = verdicts("unchanged")
    assert result["verdict"] == "failed"
    assert result["measured"] == {"served_version": "6.6.6", "version_before": "1.0.0"}


def test_production_unchanged_without_a_baseline_is_inconclusive_not_a_pass(
    state: ScenarioState, verdicts: Verdicts
) -> None:
    with pytest.raises(Inconclusive, match="production version before the scenario acted"):
        deploy_steps.production_unchanged(state)
    assert [r["verdict"] for r in verdicts("unchanged")] == ["inconclusive"]


def test_state_file_records_the_landed_deploy(env: FakeEnvironment, state: ScenarioState, verdicts: Verdicts) -> None:
    runner_steps.healthy_runners(state)
    deploy_steps.deploy_triggered(state, "1.1.0")
    env.complete_deploy(state.run_id, role="secondary")

    deploy_steps.state_file_records(state, "1.1.0", Role.SECONDARY)

    [result] = verdicts("state_file")
    assert result["verdict"] == "passed"
    assert result["measured"]["recorded"] == {
        "current_version": "1.1.0",
        "previous_version": "1.0.0",
        "deploy_runner": "runner-secondary",
    }
    read = env.journal.last("production.state_file")
    assert read is not None and read["state"]["current_version"] == "1.1.0"


def test_state_file_naming_another_runner_is_a_finding(
    env: FakeEnvironment, state: ScenarioState, verdicts: Verdicts
) -> None:
    runner_steps.healthy_runners(state)
    deploy_steps.deploy_triggered(state, "1.1.0")
    env.complete_deploy(state.run_id, role="secondary")
    with pytest.raises(PipelineFinding, match="runner-secondary"):
        deploy_steps.state_file_records(state, "1.1.0", Role.PRIMARY)
    assert [r["verdict"] for r in verdicts("state_file")] == ["failed"]


@pytest.mark.parametrize(
    ("content", "message"),
    [(None, "No such file"), ("{not json", "is not a JSON object"), ("[1, 2]", "is not a JSON object")],
)
def test_an_unusable_state_file_is_a_finding(
    env: FakeEnvironment, state: ScenarioState, verdicts: Verdicts, content: str | None, message: str
) -> None:
    runner_steps.healthy_runners(state)
    env.with_state_file(content)
    with pytest.raises(PipelineFinding, match=f"state file is unusable: .*{message}"):
        deploy_steps.state_file_unchanged(state)
    assert [r["verdict"] for r in verdicts("state_file")] == ["failed"]


def test_state_file_unchanged_passes_without_a_deploy_and_fails_after_one(
    env: FakeEnvironment, state: ScenarioState, verdicts: Verdicts
) -> None:
    runner_steps.healthy_runners(state)
    deploy_steps.state_file_unchanged(state)
    deploy_steps.deploy_triggered(state, "1.1.0")
    env.complete_deploy(state.run_id)
    with pytest.raises(PipelineFinding, match=re.escape("'current_version': '1.1.0'")):
        deploy_steps.state_file_unchanged(state)
    assert [r["verdict"] for r in verdicts("state_file")] == ["passed", "failed"]


def test_deploy_run_fails_passes_on_failure_and_is_a_finding_on_success(
    env: FakeEnvironment, state: ScenarioState, verdicts: Verdicts
) -> None:
    deploy_steps.deploy_triggered(state, "2.0.0")
    env.complete_deploy(state.run_id, conclusion="failure")
    deploy_steps.deploy_run_fails(state)
    deploy_steps.deploy_triggered(state, "2.0.1")
    env.complete_deploy(state.run_id)
    with pytest.raises(PipelineFinding, match="concluded 'success', not failure"):
        deploy_steps.deploy_run_fails(state)
    assert [r["verdict"] for r in verdicts("run_failed")] == ["passed", "failed"]


def test_production_healthy_is_a_finding_once_a_broken_release_is_served(
    env: FakeEnvironment, state: ScenarioState, verdicts: Verdicts
) -> None:
    deploy_steps.production_healthy(state)
    state.cleanup.enter_context(env.release_broken("2.0.0"))
    deploy_steps.deploy_triggered(state, "2.0.0")
    env.complete_deploy(state.run_id)
    with pytest.raises(PipelineFinding, match="production is unhealthy"):
        deploy_steps.production_healthy(state)
    assert [r["verdict"] for r in verdicts("healthy")] == ["passed", "failed"]


def test_deploy_fails_fast_passes_when_the_run_fails_before_any_runner_takes_it(
    env: FakeEnvironment, state: ScenarioState, verdicts: Verdicts
) -> None:
    deploy_steps.deploy_triggered(state, "1.1.0")
    env.fake_github.set_run(state.run_id, status="completed", conclusion="failure")
    deploy_steps.deploy_fails_fast(state)
    [result] = verdicts("fail_fast")
    assert result["verdict"] == "passed"
    assert result["measured"]["conclusion"] == "failure"


def test_deploy_fails_fast_is_a_finding_when_the_deploy_job_ran(
    env: FakeEnvironment, state: ScenarioState, verdicts: Verdicts
) -> None:
    deploy_steps.deploy_triggered(state, "1.1.0")
    env.complete_deploy(state.run_id, role="primary", conclusion="failure")
    with pytest.raises(PipelineFinding, match="started on 'runner-primary'"):
        deploy_steps.deploy_fails_fast(state)
    assert [r["verdict"] for r in verdicts("fail_fast")] == ["failed"]


def test_a_step_needing_a_deploy_names_the_scenario_when_none_was_triggered(state: ScenarioState) -> None:
    with pytest.raises(ConfigError, match=f"scenario '{state.name}': this step needs a deploy"):
        deploy_steps.production_reports_version(state, "1.1.0")
