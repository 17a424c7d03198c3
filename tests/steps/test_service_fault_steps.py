"""Steps that fault a service (production, lock, credentials, releases, SSH) and the team-channel step."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest

from fixtures.environment import ScenarioState
from harness.core.errors import ConfigError, PipelineFinding
from harness.topology.fake_environment import CERT_SECRET, EXPIRED_CERT, VALID_CERT, FakeEnvironment
from steps import concurrency_steps, credential_steps, deploy_steps, rollback_steps, trial_steps

Verdicts = Callable[[str], list[dict[str, Any]]]


def test_production_stops_and_answers_again(env: FakeEnvironment, state: ScenarioState) -> None:
    concurrency_steps.production_stops_answering(state)
    assert not env.production.answers()
    assert "error" in env.production_state()

    concurrency_steps.production_answers_again(state)

    assert env.production.answers()
    assert state.service_fault("production").reverted_ms is not None
    assert env.leftovers() == []


def test_production_answers_again_without_the_fault_names_the_scenario(state: ScenarioState) -> None:
    with pytest.raises(ConfigError, match=f"scenario '{state.name}': no earlier step injected a production fault"):
        concurrency_steps.production_answers_again(state)


def test_service_faults_hold_until_scenario_end(env: FakeEnvironment, state: ScenarioState) -> None:
    concurrency_steps.stuck_deploy_holds_lock(state)
    credential_steps.deploy_certificate_expired(state)
    rollback_steps.release_broken(state, "2.0.0")
    trial_steps.ssh_connections_reset(state, 3)

    assert set(state.service_faults) == {"deploy lock", "certificate", "release", "ssh resets"}
    assert (env.lock_held, env.ssh_reset_every, env.broken_releases) == (True, 3, {"2.0.0"})
    assert env.fake_github.secrets[CERT_SECRET] == EXPIRED_CERT
    assert len(env.leftovers()) == 4
    state.cleanup.close()
    assert env.leftovers() == []
    assert env.fake_github.secrets[CERT_SECRET] == VALID_CERT
    assert all(f.reverted_ms is not None for f in state.service_faults.values())


def test_team_told_rollback_reads_the_sink_and_judges(
    env: FakeEnvironment, state: ScenarioState, verdicts: Verdicts
) -> None:
    deploy_steps.deploy_triggered(state, "2.0.0")
    env.fake_sink.add("/team", {"event": "rollback", "version": "2.0.0"})
    rollback_steps.team_told_rollback(state, "2.0.0")
    assert [r["verdict"] for r in verdicts("team_notification")] == ["passed"]
    assert [e["message"]["path"] for e in env.journal.entries("oncall.message")] == ["/team"]


def test_team_told_success_instead_of_rollback_is_a_finding(
    env: FakeEnvironment, state: ScenarioState, verdicts: Verdicts
) -> None:
    deploy_steps.deploy_triggered(state, "2.0.0")
    env.fake_sink.add("/team", {"event": "success", "version": "2.0.0"})
    with pytest.raises(PipelineFinding, match=re.escape("no 'rollback' message about 2.0.0")):
        rollback_steps.team_told_rollback(state, "2.0.0")
    assert [r["verdict"] for r in verdicts("team_notification")] == ["failed"]
