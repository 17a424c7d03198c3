"""steps/rollback_steps.py (the finished-release rollback) on a FakeEnvironment: the steps dispatch
and record, `judge` gives the verdict. The fake GitHub knows no rollback, so the tests play the
pipeline's part: the rollback run lands the version the pipeline would have picked."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from fixtures.environment import ScenarioState
from harness.core.errors import PipelineFinding
from harness.topology.fake_environment import FakeEnvironment
from steps import deploy_steps, rollback_steps, runner_steps

Verdicts = Callable[[str], list[dict[str, Any]]]


def land_rollback(env: FakeEnvironment, run_id: int, to: str) -> None:
    """The pipeline's part: the rollback run returns production to `to` (what rollback-plan picks)."""
    env.fake_github.runs[run_id]["inputs"]["version"] = to
    env.complete_deploy(run_id)


def test_a_rollback_dispatches_the_rollback_workflow_with_no_version_and_is_cancelled_at_scenario_end(
    env: FakeEnvironment, state: ScenarioState
) -> None:
    rollback_steps.production_rolled_back(state)
    [dispatch] = env.fake_github.dispatches
    assert dispatch["workflow"] == "rollback.yml" and dispatch["inputs"] == {}
    assert state.run_ids == [dispatch["run_id"]]
    trigger = env.journal.last("deploy.trigger", "ok")
    assert trigger is not None and trigger["workflow"] == "rollback.yml" and trigger["version"] is None
    state.cleanup.close()
    assert env.fake_github.runs[state.run_id]["conclusion"] == "cancelled"


def test_deploy_rollback_deploy_passes_every_verdict(
    env: FakeEnvironment, state: ScenarioState, verdicts: Verdicts
) -> None:
    runner_steps.healthy_runners(state)
    deploy_steps.deploy_triggered(state, "10.0.0")
    env.complete_deploy(state.run_id)
    deploy_steps.production_reports_version(state, "10.0.0")

    rollback_steps.production_rolled_back(state)
    land_rollback(env, state.run_id, "1.0.0")
    rollback_steps.production_back_at_baseline(state)
    rollback_steps.components_back_at_baseline(state)
    rollback_steps.state_file_after_rollback(state, "10.0.0")

    deploy_steps.deploy_triggered(state, "10.0.0")
    env.complete_deploy(state.run_id)
    deploy_steps.production_reports_version(state, "10.0.0")
    rollback_steps.state_file_after_redeploy(state, "10.0.0")

    assert [r["verdict"] for r in verdicts("deployed")] == ["passed"] * 3
    assert [r["verdict"] for r in verdicts("components_at")] == ["passed"]
    assert [r["measured"]["recorded"] for r in verdicts("state_versions")] == [
        {"current_version": "1.0.0", "previous_version": "10.0.0"},
        {"current_version": "10.0.0", "previous_version": "1.0.0"},
    ]


def test_a_rollback_that_did_not_advance_previous_version_is_a_finding(
    env: FakeEnvironment, state: ScenarioState, verdicts: Verdicts
) -> None:
    runner_steps.healthy_runners(state)
    deploy_steps.deploy_triggered(state, "10.0.0")
    env.complete_deploy(state.run_id)
    rollback_steps.production_rolled_back(state)
    land_rollback(env, state.run_id, "1.0.0")
    env.with_state_file({"current_version": "1.0.0", "previous_version": "1.0.0"})
    with pytest.raises(PipelineFinding, match=re.escape("'previous_version': '1.0.0'")):
        rollback_steps.state_file_after_rollback(state, "10.0.0")
    assert [r["verdict"] for r in verdicts("state_versions")] == ["failed"]


def test_a_rollback_run_that_failed_is_a_finding(
    env: FakeEnvironment, state: ScenarioState, verdicts: Verdicts
) -> None:
    runner_steps.healthy_runners(state)
    rollback_steps.production_rolled_back(state)
    env.complete_deploy(state.run_id, conclusion="failure")
    with pytest.raises(PipelineFinding, match="concluded 'failure'"):
        rollback_steps.production_back_at_baseline(state)
