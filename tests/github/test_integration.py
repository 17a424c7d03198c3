"""End to end over HTTP: server in a thread on 127.0.0.1, runner agents in threads."""

from __future__ import annotations

import json
import textwrap
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness.github.agent import Agent, AgentConfig
from harness.github.client import RunnerClient, TransportError

if TYPE_CHECKING:  # fixtures come from conftest.py; nothing is imported from it at run time
    from conftest import SimClient

PRIMARY = ["self-hosted", "linux", "production", "primary"]
SECONDARY = ["self-hosted", "linux", "production", "secondary"]

StartAgent = Callable[..., Agent]


def workflow(text: str) -> str:
    return textwrap.dedent(text)


def test_job_runs_on_the_runner_whose_labels_match(sim: SimClient, start_agent: StartAgent) -> None:
    sim.upload_workflow(
        workflow("""\
        on: workflow_dispatch
        jobs:
          deploy:
            runs-on: [Self-Hosted, PRODUCTION, secondary]
            steps:
              - run: echo "running on $RUNNER_NAME"
        """)
    )
    start_agent("primary", PRIMARY)
    start_agent("secondary", SECONDARY)
    run_id = sim.dispatch()
    run = sim.wait_run(run_id)
    assert run["conclusion"] == "success"
    job = sim.jobs(run_id)["deploy"]
    assert job["runner_name"] == "secondary"
    assert job["labels"] == ["Self-Hosted", "PRODUCTION", "secondary"]
    assert job["steps"][0]["conclusion"] == "success" and job["started_at"].endswith("Z")
    assert "running on secondary" in sim.log(job["id"])
    started = sim.wait_event(lambda e: e["type"] == "job.started")
    assert started["runner_name"] == "secondary" and started["job_key"] == "deploy"
    assert isinstance(started["ts_ms"], int) and started["ts_ms"] > 1_600_000_000_000


def test_job_with_labels_no_runner_has_fails_after_queue_timeout(sim: SimClient, start_agent: StartAgent) -> None:
    sim.upload_workflow(
        workflow("""\
        on: workflow_dispatch
        jobs:
          deploy:
            runs-on: [self-hosted, gpu]
            steps: [{run: 'true'}]
        """)
    )
    start_agent("primary", PRIMARY)
    run_id = sim.dispatch()
    run = sim.wait_run(run_id, timeout_s=10)
    assert run["conclusion"] == "failure"
    job = sim.jobs(run_id)["deploy"]
    assert job["conclusion"] == "failure" and job["runner_name"] is None
    annotations = sim.http.get(f"{sim.prefix}/check-runs/{job['id']}/annotations").json()
    assert "self-hosted, gpu" in annotations[0]["message"]
    events = sim.events()
    queued = next(e for e in events if e["type"] == "job.queued")
    failed = next(e for e in events if e["type"] == "job.completed")
    assert failed["ts_ms"] - queued["ts_ms"] >= sim.config()["queue_timeout_s"] * 1000 - 50
    assert "job.started" not in [e["type"] for e in events]


def test_killed_agent_goes_offline_and_its_job_fails_without_reschedule(
    sim: SimClient, start_agent: StartAgent
) -> None:
    sim.upload_workflow(
        workflow("""\
        on: workflow_dispatch
        jobs:
          deploy:
            runs-on: [self-hosted, production]
            steps:
              - run: echo started; sleep 30
        """)
    )
    primary = start_agent("primary", PRIMARY)
    run_id = sim.dispatch()
    sim.wait_event(lambda e: e["type"] == "step.started", what="the step to start")
    primary.kill()
    start_agent("secondary", SECONDARY)  # a healthy matching runner: the job must still not move
    offline = sim.wait_event(
        lambda e: e["type"] == "runner.offline" and e["runner_name"] == "primary", what="primary offline"
    )
    assert offline["reason"] == "heartbeat_timeout"
    run = sim.wait_run(run_id)
    assert run["conclusion"] == "failure"
    job = sim.jobs(run_id)["deploy"]
    assert job["conclusion"] == "failure" and job["runner_name"] == "primary"
    events = sim.events()
    assert [e["runner_name"] for e in events if e["type"] == "job.started"] == ["primary"]
    expired = next(e for e in events if e["type"] == "job.lease_expired")
    assert expired["job_id"] == job["id"] and expired["run_id"] == run_id and expired["job_key"] == "deploy"
    completed = next(e for e in events if e["type"] == "job.completed")
    assert "The runner has lost communication with the server" in completed["message"]
    runners = {r["name"]: r for r in sim.http.get(f"{sim.prefix}/actions/runners").json()["runners"]}
    assert runners["primary"]["status"] == "offline" and runners["secondary"]["status"] == "online"
    assert {"name": "primary", "id": 4, "type": "custom"} in runners["primary"]["labels"]


def test_dispatch_validation(sim: SimClient) -> None:
    sim.upload_workflow(
        workflow("""\
        on:
          workflow_dispatch:
            inputs:
              version: {required: true}
              dry_run: {type: boolean, default: false}
        jobs:
          a:
            runs-on: x
            steps: [{run: 'true'}]
        """)
    )
    response = sim.dispatch_raw({"version": "1", "colour": "blue"})
    assert response.status_code == 422 and "colour" in response.json()["message"]
    assert sim.dispatch_raw({}).status_code == 422
    assert sim.dispatch_raw({"version": "1", "dry_run": "perhaps"}).status_code == 422
    assert sim.dispatch_raw({"version": "1"}, workflow="nope.yml").status_code == 404
    assert (
        sim.http.post("/repos/acme/ghost/actions/workflows/ci.yml/dispatches", json={"ref": "main"}).status_code == 404
    )
    ok = sim.dispatch_raw({"version": "1", "dry_run": True})
    assert ok.status_code == 200 and set(ok.json()) == {"workflow_run_id", "run_url", "html_url"}
    runs = sim.http.get(f"{sim.prefix}/actions/runs").json()
    assert runs["total_count"] == 1 and runs["workflow_runs"][0]["status"] == "in_progress"


def test_invalid_workflow_upload_is_422_with_lines(sim: SimClient) -> None:
    response = sim.upload(
        {
            ".github/workflows/bad.yml": "on: workflow_dispatch\njobs:\n  a:\n    runs-on: x\n"
            "    services: {db: {image: pg}}\n"
            "    steps: [{run: 'true'}]\n"
        }
    )
    assert response.status_code == 422
    errors = response.json()["errors"]
    assert errors == [{"path": ".github/workflows/bad.yml", "line": 5, "message": errors[0]["message"]}]
    assert "services" in errors[0]["message"]


STDIN_AND_SECRETS = """\
on: workflow_dispatch
jobs:
  check:
    runs-on: [self-hosted]
    steps:
      - id: probe
        run: |
          if read -r line; then echo "stdin gave: $line"; else echo "stdin is closed (EOF)"; fi
      - id: reads
        continue-on-error: true
        timeout-minutes: 0.2
        run: read answer
      - name: secrets
        env:
          KEY: ${{ secrets.SSH_KEY }}
        run: |
          echo "token=${{ secrets.API_TOKEN }}"
          echo "$KEY"
          printf 'inline %s\\n' "$KEY" | tail -n 2
          echo "::add-mask::runtime-value-123"
          echo "dynamic runtime-value-123"
      - if: steps.reads.outcome == 'failure' && steps.reads.conclusion == 'success'
        run: echo "read failed on EOF, continue-on-error kept the job green"
"""
SSH_KEY = (
    "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA\nQyNTUxOQAAACDsecretpart\n"
    "-----END OPENSSH PRIVATE KEY-----"
)


def test_stdin_is_closed_and_secrets_are_masked(sim: SimClient, start_agent: StartAgent) -> None:
    sim.upload_workflow(STDIN_AND_SECRETS)
    sim.secret("API_TOKEN", "tok-ABC-123456")
    sim.secret("SSH_KEY", SSH_KEY)
    start_agent("primary", PRIMARY)
    run_id = sim.dispatch()
    assert sim.wait_run(run_id)["conclusion"] == "success"
    job = sim.jobs(run_id)["check"]
    steps = {s["number"]: s for s in job["steps"]}
    assert steps[2]["conclusion"] == "success" and steps[4]["conclusion"] == "success"
    log = sim.log(job["id"])
    assert "stdin is closed (EOF)" in log
    assert "read failed on EOF" in log
    assert "tok-ABC-123456" not in log and "token=***" in log
    for line in SSH_KEY.splitlines():
        assert line not in log
    # the script echo precedes ::add-mask:: (as on GitHub); the value printed afterwards is masked
    assert "Z dynamic runtime-value-123" not in log and "Z dynamic ***" in log
    completed = [e for e in sim.events() if e["type"] == "step.completed" and e["number"] == 2]
    assert completed[0]["outcome"] == "failure" and completed[0]["conclusion"] == "success"


def test_runs_on_from_needs_outputs_dispatches_to_the_right_runner(sim: SimClient, start_agent: StartAgent) -> None:
    sim.upload_workflow(
        workflow("""\
        on:
          workflow_dispatch:
            inputs:
              target: {type: choice, options: [primary, secondary], default: primary}
        jobs:
          select:
            runs-on: [self-hosted, primary]
            outputs:
              labels: ${{ steps.pick.outputs.labels }}
            steps:
              - id: pick
                run: echo "labels=[\\"self-hosted\\",\\"production\\",\\"${{ inputs.target }}\\"]" >> "$GITHUB_OUTPUT"
          deploy:
            needs: select
            runs-on: ${{ fromJSON(needs.select.outputs.labels) }}
            steps:
              - run: echo "deploying on $RUNNER_NAME"
        """)
    )
    start_agent("primary", PRIMARY)
    start_agent("secondary", SECONDARY)
    run_id = sim.dispatch({"target": "secondary"})
    assert sim.wait_run(run_id)["conclusion"] == "success"
    jobs = sim.jobs(run_id)
    assert jobs["select"]["runner_name"] == "primary"
    assert jobs["deploy"]["runner_name"] == "secondary"
    assert jobs["deploy"]["labels"] == ["self-hosted", "production", "secondary"]


def test_outputs_env_and_needs_flow_between_steps_and_jobs(sim: SimClient, start_agent: StartAgent) -> None:
    sim.upload_workflow(
        workflow("""\
        on: workflow_dispatch
        env:
          LEVEL: workflow
        jobs:
          build:
            runs-on: [self-hosted]
            env:
              LEVEL: job
            outputs:
              version: ${{ steps.meta.outputs.version }}
              notes: ${{ steps.meta.outputs.notes }}
            steps:
              - uses: actions/checkout@v4
              - id: meta
                working-directory: sub
                run: |
                  echo "version=$(cat ../VERSION)" >> "$GITHUB_OUTPUT"
                  { echo "notes<<EOF"; echo "line one"; echo "line two"; echo "EOF"; } >> "$GITHUB_OUTPUT"
                  echo "FROM_ENV_FILE=carried" >> "$GITHUB_ENV"
                  echo "## Summary from $PWD" >> "$GITHUB_STEP_SUMMARY"
              - env:
                  LEVEL: step
                run: echo "level=$LEVEL env-file=$FROM_ENV_FILE ws=$GITHUB_WORKSPACE ci=$CI"
          use:
            needs: build
            runs-on: [self-hosted]
            steps:
              - run: |
                  echo "got ${{ needs.build.outputs.version }} result=${{ needs.build.result }}"
                  echo "${{ needs.build.outputs.notes }}" | wc -l
        """),
        extra={"VERSION": "4.2.0\n", "sub/.keep": ""},
    )
    start_agent("primary", PRIMARY)
    run_id = sim.dispatch()
    assert sim.wait_run(run_id)["conclusion"] == "success"
    jobs = sim.jobs(run_id)
    build_log, use_log = sim.log(jobs["build"]["id"]), sim.log(jobs["use"]["id"])
    assert "level=step env-file=carried" in build_log and "ci=true" in build_log
    assert "got 4.2.0 result=success" in use_log
    assert any(line.endswith(" 2") for line in use_log.splitlines())
    detail = sim.http.get(f"/_sim/jobs/{jobs['build']['id']}").json()
    assert detail["outputs"] == {"version": "4.2.0", "notes": "line one\nline two"}
    assert "## Summary from" in detail["summary"]


def test_cancel_kills_running_step_and_runs_only_always_steps(sim: SimClient, start_agent: StartAgent) -> None:
    sim.upload_workflow(
        workflow("""\
        on: workflow_dispatch
        jobs:
          deploy:
            runs-on: [self-hosted]
            steps:
              - run: echo begin; sleep 30
              - run: echo should-not-run
              - if: always()
                run: echo cleanup-ran
              - if: cancelled()
                run: echo cancelled-ran
        """)
    )
    start_agent("primary", PRIMARY, lease_renew_s=5.0)  # cancellation must arrive by heartbeat/log replies too
    run_id = sim.dispatch()
    sim.wait_event(lambda e: e["type"] == "step.started", what="the long step")
    assert sim.http.post(f"{sim.prefix}/actions/runs/{run_id}/cancel").status_code == 202
    run = sim.wait_run(run_id, timeout_s=8)
    assert run["conclusion"] == "cancelled"
    job = sim.jobs(run_id)["deploy"]
    assert [s["conclusion"] for s in job["steps"]] == ["cancelled", "skipped", "success", "success"]
    log = sim.log(job["id"])
    assert "cleanup-ran" in log and "cancelled-ran" in log and "should-not-run\n" not in log.split("##[group]")[-1]
    types = [e["type"] for e in sim.events()]
    assert types.index("run.cancel_requested") < types.index("run.completed")
    assert sim.http.post(f"{sim.prefix}/actions/runs/{run_id}/cancel").status_code == 409


def test_step_timeout_and_job_timeout(sim: SimClient, start_agent: StartAgent) -> None:
    sim.upload_workflow(
        workflow("""\
        on: workflow_dispatch
        jobs:
          slow:
            runs-on: [self-hosted]
            timeout-minutes: 0.02
            steps:
              - timeout-minutes: 0.005
                continue-on-error: true
                run: sleep 10
              - run: sleep 10
              - if: always()
                run: echo after-timeout
        """)
    )
    start_agent("primary", PRIMARY)
    run_id = sim.dispatch()
    assert sim.wait_run(run_id, timeout_s=10)["conclusion"] == "failure"
    job = sim.jobs(run_id)["slow"]
    assert [s["conclusion"] for s in job["steps"]] == ["success", "cancelled", "success"]
    log = sim.log(job["id"])
    assert "The action has timed out" in log
    assert "has exceeded the maximum execution time of 0.02 minutes" in log


def test_runtime_config_and_events_long_poll(sim: SimClient) -> None:
    response = sim.http.put("/_sim/config", json={"queue_timeout_s": 2.5})
    assert response.status_code == 200 and response.json()["queue_timeout_s"] == 2.5
    assert sim.http.put("/_sim/config", json={"bogus": 1}).status_code == 422
    last = sim.events()[-1]["seq"]
    assert sim.http.get("/_sim/events", params={"after": last, "wait": 0.2}).json() == {"events": []}
    assert sim.http.get("/healthz").status_code == 200


def test_state_file_and_variables(sim: SimClient, start_agent: StartAgent, tmp_path: Path) -> None:
    sim.upload_workflow(
        workflow("""\
        on: workflow_dispatch
        jobs:
          a:
            runs-on: [self-hosted]
            steps:
              - run: echo "colour=${{ vars.COLOUR }}"
              - run: exit 3
        """)
    )
    assert sim.http.post(f"{sim.prefix}/actions/variables", json={"name": "COLOUR", "value": "teal"}).status_code == 201
    state = tmp_path / "state.json"
    start_agent("primary", PRIMARY, state_file=str(state))
    run_id = sim.dispatch()
    assert sim.wait_run(run_id)["conclusion"] == "failure"
    job = sim.jobs(run_id)["a"]
    assert "colour=teal" in sim.log(job["id"])
    assert "Process completed with exit code 3" in sim.log(job["id"])
    data = sim.wait_for(
        lambda: state.exists() and (d := json.loads(state.read_text()))["jobs_total"] == 1 and d, 5, "state file"
    )
    assert data["jobs_failed"] == 1 and data["current_job"] is None and data["last_checkin_ts"] > 0


class PartitionableClient(RunnerClient):
    """A runner client whose network path to the server can be cut and restored."""

    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.cut = threading.Event()

    def request(
        self, method: str, path: str, body: Any = None, timeout_s: float | None = None, raw: bool = False
    ) -> Any:
        if self.cut.is_set():
            raise TransportError("partitioned")
        return super().request(method, path, body, timeout_s, raw)


def test_partitioned_runner_loses_its_job_then_recovers(sim: SimClient, tmp_path: Path) -> None:
    sim.upload_workflow(
        workflow("""\
        on: workflow_dispatch
        jobs:
          deploy:
            runs-on: [self-hosted, primary]
            steps:
              - run: echo started; sleep 30
        """)
    )
    client = PartitionableClient(sim.url)
    agent = Agent(
        AgentConfig(
            github_url=sim.url,
            name="primary",
            labels=PRIMARY,
            work_dir=str(tmp_path / "w"),
            heartbeat_s=0.1,
            lease_renew_s=0.15,
            acquire_wait_s=0.25,
            kill_grace_s=0.5,
        ),
        client=client,
    ).start()
    try:
        first = sim.dispatch()
        sim.wait_event(lambda e: e["type"] == "step.started", what="the step to start")
        client.cut.set()
        run = sim.wait_run(first)
        assert run["conclusion"] == "failure"
        types = [e["type"] for e in sim.events()]
        assert types.index("runner.offline") < types.index("job.lease_expired")
        client.cut.clear()  # heal: the agent learns its job is gone (410), kills the step, polls again
        sim.wait_event(lambda e: e["type"] == "runner.online" and e["seq"] > 3, what="runner back online")
        second = sim.dispatch()
        sim.wait_event(lambda e: e["type"] == "step.started" and e["run_id"] == second, what="second job")
        assert sim.jobs(second)["deploy"]["runner_name"] == "primary"
        assert len([e for e in sim.events() if e["type"] == "job.completed" and e["run_id"] == first]) == 1
    finally:
        agent.stop(timeout_s=3)
