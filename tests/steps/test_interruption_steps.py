"""steps/interruption_steps.py on a FakeEnvironment: the named step, the sampler, the judge's inputs."""

from __future__ import annotations

import time

import pytest

from fixtures.environment import ScenarioState
from harness.core.errors import ConfigError, Inconclusive
from harness.topology.fake_environment import FakeEnvironment
from steps import deploy_steps, interruption_steps, runner_steps


def started_deploy(env: FakeEnvironment, state: ScenarioState, log: str) -> int:
    """Trigger a deploy; its deploy job starts on the primary with `log` already written."""
    deploy_steps.deploy_triggered(state, "7.1.0")
    job_id = env.fake_github.add_job(state.run_id, "deploy", status="in_progress", runner_name="runner-primary")
    env.fake_github.append_log(job_id, log)
    env.fake_github.emit(
        "job.started", run_id=state.run_id, job_key="deploy", job_id=job_id, runner_name="runner-primary"
    )
    return job_id


def test_a_step_the_pipeline_does_not_declare_is_a_config_error_naming_its_steps(
    env: FakeEnvironment, state: ScenarioState
) -> None:
    started_deploy(env, state, "")
    with pytest.raises(ConfigError, match=r"no deploy step 'deploi'; it has \['lock', 'snapshot'"):
        interruption_steps.deploy_reaches_step(state, "deploi")


def test_the_step_is_reached_when_the_log_announces_it(env: FakeEnvironment, state: ScenarioState) -> None:
    started_deploy(env, state, "2026-12-01T12:00:00.0000000Z TASK [DCH-STEP migrate] ****\n")
    interruption_steps.deploy_reaches_step(state, "migrate")
    assert state.interrupted_at == "migrate"
    [reached] = env.journal.entries("deploy.step_reached")
    assert reached["step"] == "migrate" and reached["seen"] is True


def test_a_deploy_that_ends_without_the_step_is_inconclusive(env: FakeEnvironment, state: ScenarioState) -> None:
    job_id = started_deploy(env, state, "TASK [DCH-STEP lock] ****\n")
    env.fake_github.emit("job.completed", run_id=state.run_id, job_key="deploy", job_id=job_id, conclusion="failure")
    with pytest.raises(Inconclusive, match="never logged 'DCH-STEP health'"):
        interruption_steps.deploy_reaches_step(state, "health")


def test_sampling_runs_until_the_scenario_ends_and_says_how_far(env: FakeEnvironment, state: ScenarioState) -> None:
    runner_steps.healthy_runners(state)
    interruption_steps.components_sampled(state)
    time.sleep(0.35)
    state.cleanup.close()
    samples = [e for e in env.journal.entries("production.sample") if e.get("probe") == "components"]
    assert len(samples) >= 3
    [end] = [e for e in env.journal.entries("watch.end") if e["source"] == "production.components"]
    assert end["reads"] == len(samples)
