"""steps/runner_steps.py on a FakeEnvironment: preconditions, runner faults, placement, failover, detection."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

import pytest

from fixtures.environment import ScenarioState
from harness.core.errors import Inconclusive, PipelineFinding
from harness.core.types import Role
from harness.topology.fake_environment import FakeEnvironment
from steps import deploy_steps, runner_steps

Verdicts = Callable[[str], list[dict[str, Any]]]


def test_healthy_runners_journals_the_baseline(env: FakeEnvironment, state: ScenarioState) -> None:
    runner_steps.healthy_runners(state)
    [baseline] = env.journal.entries("scenario.baseline")
    assert baseline["version"] == "1.0.0"
    assert baseline["runners"] == ["primary", "secondary"]


def test_healthy_runners_is_inconclusive_when_a_runner_is_offline(env: FakeEnvironment, state: ScenarioState) -> None:
    state.cleanup.enter_context(env.runner_offline("secondary"))
    started = time.monotonic()
    with pytest.raises(Inconclusive, match="precondition not met, runners are not healthy"):
        runner_steps.healthy_runners(state)
    assert time.monotonic() - started >= env.profile.budget("runner_ready_timeout_s")  # it did wait
    assert env.journal.entries("scenario.baseline") == []


def test_healthy_runners_is_inconclusive_when_monitoring_has_no_target_of_a_runner() -> None:
    """GitHub sees both runners online, but Prometheus has no `up` sample of one (never scraped)."""
    env = FakeEnvironment(budgets={"runner_ready_timeout_s": 0.2}).with_runner("primary")
    env.fake_github.add_runner("runner-secondary", ["self-hosted", "secondary"])
    with env, contextlib.ExitStack() as stack:
        state = ScenarioState.begin(env, "no target", stack)
        with pytest.raises(Inconclusive, match="secondary runner target up in Prometheus"):
            runner_steps.healthy_runners(state)
    assert env.journal.entries("scenario.baseline") == []


def test_runner_goes_offline_enters_the_fault_until_scenario_end(env: FakeEnvironment, state: ScenarioState) -> None:
    runner_steps.runner_goes_offline(state, Role.PRIMARY)

    fault = state.runner_fault(Role.PRIMARY)
    assert fault.onset_ms is not None and fault.reverted_ms is None
    assert state.unhealthy_selector == env.runner_health_selector("primary")
    assert env.leftovers() == ["runner-primary is frozen"]
    assert {r["name"]: r["status"] for r in env.github.runners()}["runner-primary"] == "offline"
    state.cleanup.close()
    assert fault.reverted_ms is not None
    assert env.leftovers() == []
    assert {r["name"]: r["status"] for r in env.github.runners()}["runner-primary"] == "online"


def test_deploy_runs_on_the_primary(env: FakeEnvironment, state: ScenarioState, verdicts: Verdicts) -> None:
    deploy_steps.deploy_triggered(state, "1.1.0")
    env.complete_deploy(state.run_id, role="primary")
    runner_steps.deploy_runs_on(state, Role.PRIMARY)
    [result] = verdicts("placement")
    assert result["verdict"] == "passed"
    assert result["measured"]["runner"] == "runner-primary"


def test_deploy_on_the_wrong_runner_is_a_placement_finding(
    env: FakeEnvironment, state: ScenarioState, verdicts: Verdicts
) -> None:
    deploy_steps.deploy_triggered(state, "1.1.0")
    env.complete_deploy(state.run_id, role="secondary")
    with pytest.raises(PipelineFinding, match="ran on 'runner-secondary', not on 'runner-primary'"):
        runner_steps.deploy_runs_on(state, Role.PRIMARY)
    assert [r["verdict"] for r in verdicts("placement")] == ["failed"]


def test_failover_to_the_secondary_passes(env: FakeEnvironment, state: ScenarioState, verdicts: Verdicts) -> None:
    runner_steps.healthy_runners(state)
    runner_steps.runner_goes_offline(state, Role.PRIMARY)
    deploy_steps.deploy_triggered(state, "1.1.0")
    env.complete_deploy(state.run_id, role="secondary")

    runner_steps.deploy_runs_on_secondary(state)

    [result] = verdicts("failover")
    assert result["verdict"] == "passed"
    assert result["measured"]["runner"] == "runner-secondary"
    assert result["budget"] == {"failover_budget_s": env.profile.budget("failover_budget_s")}


def test_failover_onto_the_frozen_primary_is_a_finding(
    env: FakeEnvironment, state: ScenarioState, verdicts: Verdicts
) -> None:
    runner_steps.runner_goes_offline(state, Role.PRIMARY)
    deploy_steps.deploy_triggered(state, "1.1.0")
    env.complete_deploy(state.run_id, role="primary")
    with pytest.raises(PipelineFinding, match="not on the secondary 'runner-secondary'"):
        runner_steps.deploy_runs_on_secondary(state)
    assert [r["verdict"] for r in verdicts("failover")] == ["failed"]


def test_failover_without_a_runner_seen_unhealthy_is_inconclusive(state: ScenarioState) -> None:
    deploy_steps.deploy_triggered(state, "1.1.0")
    with pytest.raises(Inconclusive, match="no earlier step saw a runner unhealthy"):
        runner_steps.deploy_runs_on_secondary(state)


def test_runner_cut_off_from_github_is_detected_by_monitoring(
    env: FakeEnvironment, state: ScenarioState, verdicts: Verdicts
) -> None:
    runner_steps.runner_cut_off(state, Role.PRIMARY)
    assert env.leftovers() == ["runner-primary is cut off from github"]

    runner_steps.monitoring_reports_unhealthy(state, Role.PRIMARY)

    [result] = verdicts("detection")
    assert result["verdict"] == "passed"
    assert state.unhealthy_selector == env.runner_status_selector("primary")


def test_prometheus_unreachable_is_a_service_fault_of_the_scenario(env: FakeEnvironment, state: ScenarioState) -> None:
    runner_steps.prometheus_unreachable(state)
    assert not env.prometheus.ready()
    assert env.leftovers() == ["prometheus does not answer"]
    state.cleanup.close()
    assert env.prometheus.ready()
    assert state.service_fault("prometheus").reverted_ms is not None
