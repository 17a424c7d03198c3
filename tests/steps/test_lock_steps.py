"""Steps of features/deploy_lock.feature on the fake environment: the stale-lock page, its resolve, two holds."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from fixtures.environment import ScenarioState
from harness.core.errors import ConfigError
from harness.topology.fake_environment import FakeEnvironment
from steps import concurrency_steps, lock_steps

Verdicts = Callable[[str], list[dict[str, Any]]]
ALERT = {"alertname": "DeployLockStale", "severity": "critical", "txn_id": "7", "holder": "deploy-chaos-fault"}


def page(env: FakeEnvironment, status: str) -> None:
    alert = {"status": status, "labels": ALERT, "annotations": {"runbook": "runbooks/deploy-lock-stale.md"}}
    env.fake_sink.add("/oncall", {"status": status, "alerts": [alert]})


def test_a_held_lock_pages_and_clears_once_it_lets_go(
    env: FakeEnvironment, state: ScenarioState, verdicts: Verdicts
) -> None:
    concurrency_steps.stuck_deploy_holds_lock(state)
    page(env, "firing")
    lock_steps.oncall_receives_for_lock(state, "DeployLockStale")
    (delivered,) = verdicts("alert_delivery")
    assert delivered["verdict"] == "passed", delivered["message"]
    assert delivered["budget"]["budget_s"] == 37.0  # nightly: 900 s / 30 + 1 + 1 + 2 + 1 + 2

    lock_steps.stuck_deploy_lets_go(state)
    assert not env.lock_held
    page(env, "resolved")
    lock_steps.oncall_told_lock_resolved(state, "DeployLockStale")
    assert [r["verdict"] for r in verdicts("alert_resolved")] == ["passed"]


def test_the_page_step_needs_the_stuck_deploy_first(state: ScenarioState) -> None:
    with pytest.raises(ConfigError, match="no earlier step injected a deploy lock fault"):
        lock_steps.oncall_receives_for_lock(state, "DeployLockStale")


def test_two_holds_in_a_row_are_two_faults_of_two_thirds_of_the_scaled_for(
    env: FakeEnvironment, state: ScenarioState, monkeypatch: pytest.MonkeyPatch
) -> None:
    slept: list[float] = []
    monkeypatch.setattr(lock_steps.time, "sleep", slept.append)
    lock_steps.two_holds_in_a_row(state, "DeployLockStale")
    assert slept == [pytest.approx(20.0, rel=1e-3)] * 2  # 900 s x 1/30 x 2/3 each
    first, second = (state.service_fault(name) for name in lock_steps.HOLDS)
    assert first.fault_id != second.fault_id
    assert first.reverted() <= second.onset()  # back to back: the second opens once the first closed
    assert not env.lock_held
