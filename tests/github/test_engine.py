"""Control-plane semantics without HTTP or agents: DAG, job if, outputs, concurrency, timers.

A fake runner drives the runner protocol directly; the monitor is ticked with explicit times.
"""

from __future__ import annotations

import textwrap
import time
from typing import Any

import pytest

from harness.github.api import SimApp
from harness.github.config import SimConfig
from harness.github.errors import ApiError
from harness.github.state import Run
from harness.github.tarballs import make_tarball


def make_app(workflow: str, **config: float) -> SimApp:
    app = SimApp(SimConfig(**config))
    app.engine.put_repo("acme", "app", make_tarball({".github/workflows/ci.yml": textwrap.dedent(workflow)}))
    return app


class FakeRunner:
    """Drives the runner protocol by hand."""

    def __init__(self, app: SimApp, name: str, labels: list[str]) -> None:
        self.app = app
        runner = app.runners.register(name, labels)
        self.id, self.session = runner.id, runner.session

    def take(self) -> dict[str, Any] | None:
        return self.app.runners.acquire(self.id, self.session, 0, "http://sim")

    def finish(self, job: dict[str, Any], conclusion: str = "success", outputs: dict[str, str] | None = None) -> None:
        self.app.runners.complete(job["job_id"], job["lease_token"], conclusion, outputs or {})


def dispatch(app: SimApp, inputs: dict[str, Any] | None = None) -> Run:
    return app.engine.dispatch("acme", "app", "ci.yml", "main", inputs or {})


def job_states(app: SimApp, run: Run) -> dict[str, tuple[str, str | None]]:
    return {j.key: (j.status, j.conclusion) for j in app.engine.jobs_of(run)}


def event_types(app: SimApp) -> list[str]:
    return [e["type"] for e in app.store.events]


DAG = """\
on: workflow_dispatch
jobs:
  build:
    runs-on: [self-hosted]
    steps: [{run: make}]
  test:
    needs: build
    runs-on: [self-hosted]
    steps: [{run: make test}]
  report:
    needs: test
    if: always()
    runs-on: [self-hosted]
    steps: [{run: report}]
  after-report:
    needs: report
    runs-on: [self-hosted]
    steps: [{run: x}]
  on-failure:
    needs: build
    if: failure()
    runs-on: [self-hosted]
    steps: [{run: page}]
"""


def test_failed_job_skips_dependants_unless_status_function() -> None:
    app = make_app(DAG)
    runner = FakeRunner(app, "r", ["self-hosted"])
    run = dispatch(app)
    build = runner.take()
    assert build is not None and build["job_key"] == "build"
    assert runner.take() is None  # busy runner never takes a second job
    runner.finish(build, "failure")
    for _ in range(2):
        job = runner.take()
        assert job is not None
        runner.finish(job)
    states = job_states(app, run)
    assert states["test"] == ("completed", "skipped")
    assert states["report"] == ("completed", "success")  # always()
    assert states["after-report"] == ("completed", "skipped")  # an ancestor failed: implicit success() is false
    assert states["on-failure"] == ("completed", "success")
    assert run.status == "completed" and run.conclusion == "failure"
    assert "job.skipped" in event_types(app)


def test_outputs_and_runs_on_from_needs() -> None:
    app = make_app("""\
        on: workflow_dispatch
        jobs:
          select:
            runs-on: [self-hosted, linux]
            outputs:
              labels: ${{ steps.pick.outputs.labels }}
            steps: [{id: pick, run: pick}]
          deploy:
            needs: select
            name: deploy to ${{ needs.select.outputs.target }}
            runs-on: ${{ fromJSON(needs.select.outputs.labels) }}
            steps: [{run: deploy}]
        """)
    primary = FakeRunner(app, "primary", ["self-hosted", "linux", "primary"])
    secondary = FakeRunner(app, "secondary", ["self-hosted", "linux", "secondary"])
    run = dispatch(app)
    select = primary.take()
    assert select is not None
    primary.finish(select, outputs={"labels": '["self-hosted", "secondary"]', "target": "prod"})
    assert primary.take() is None
    deploy = secondary.take()
    assert deploy is not None and deploy["job_key"] == "deploy"
    assert deploy["contexts"]["needs"] == {
        "select": {"result": "success", "outputs": {"labels": '["self-hosted", "secondary"]', "target": "prod"}}
    }
    assert deploy["labels"] == ["self-hosted", "secondary"]
    assert deploy["name"] == "deploy to prod"
    secondary.finish(deploy)
    assert run.conclusion == "success"


def test_runs_on_expression_error_fails_the_job() -> None:
    app = make_app("""\
        on: workflow_dispatch
        jobs:
          a:
            runs-on: "${{ fromJSON('{\\"not\\": 1}') }}"
            steps: [{run: x}]
        """)
    run = dispatch(app)
    job = app.engine.jobs_of(run)[0]
    assert job.conclusion == "failure" and "runs-on" in job.annotations[0]["message"]
    assert run.conclusion == "failure"


def test_job_continue_on_error_keeps_run_green() -> None:
    app = make_app("""\
        on: workflow_dispatch
        jobs:
          flaky:
            runs-on: x
            continue-on-error: true
            steps: [{run: x}]
          next:
            needs: flaky
            runs-on: x
            steps: [{run: x}]
        """)
    runner = FakeRunner(app, "r", ["x"])
    run = dispatch(app)
    job = runner.take()
    assert job is not None
    runner.finish(job, "failure")
    nxt = runner.take()
    assert nxt is not None and nxt["contexts"]["needs"]["flaky"]["result"] == "success"
    runner.finish(nxt)
    assert job_states(app, run)["flaky"] == ("completed", "failure")
    assert run.conclusion == "success"


def test_job_if_with_inputs_and_vars() -> None:
    app = make_app("""\
        on:
          workflow_dispatch:
            inputs:
              dry_run: {type: boolean, default: false}
        jobs:
          deploy:
            if: ${{ !inputs.dry_run && vars.ENABLED == 'yes' }}
            runs-on: x
            steps: [{run: x}]
        """)
    app.engine.set_variable("acme", "app", "ENABLED", "yes")
    skipped = dispatch(app, {"dry_run": True})
    assert skipped.conclusion == "success" and job_states(app, skipped)["deploy"] == ("completed", "skipped")
    queued = dispatch(app, {"dry_run": "false"})
    assert job_states(app, queued)["deploy"] == ("queued", None)


CONCURRENT = """\
on: workflow_dispatch
jobs:
  deploy:
    runs-on: [self-hosted, production]
    concurrency:
      group: production-deploy
      cancel-in-progress: false
    steps: [{run: deploy}]
"""


def test_job_concurrency_one_running_one_pending_newest_wins() -> None:
    app = make_app(CONCURRENT)
    runner = FakeRunner(app, "primary", ["self-hosted", "production"])
    first, second = dispatch(app), dispatch(app)
    job1 = runner.take()
    assert job1 is not None and job1["run_id"] == first.id
    assert job_states(app, second)["deploy"] == ("pending", None)
    third = dispatch(app)
    assert job_states(app, second)["deploy"] == ("completed", "cancelled")
    assert second.conclusion == "cancelled"
    assert job_states(app, third)["deploy"] == ("pending", None)
    runner.finish(job1)
    job3 = runner.take()
    assert job3 is not None and job3["run_id"] == third.id
    runner.finish(job3)
    assert (first.conclusion, second.conclusion, third.conclusion) == ("success", "cancelled", "success")


def test_job_concurrency_cancel_in_progress() -> None:
    app = make_app(CONCURRENT.replace("cancel-in-progress: false", "cancel-in-progress: true"))
    runner = FakeRunner(app, "primary", ["self-hosted", "production"])
    first = dispatch(app)
    job1 = runner.take()
    assert job1 is not None
    second = dispatch(app)
    assert app.runners.renew(job1["job_id"], job1["lease_token"]) == {"cancel_requested": True}
    assert job_states(app, second)["deploy"] == ("pending", None)
    runner.finish(job1, "cancelled")
    assert first.conclusion == "cancelled"
    job2 = runner.take()
    assert job2 is not None and job2["run_id"] == second.id


def test_workflow_concurrency_queues_whole_runs() -> None:
    app = make_app("""\
        on: workflow_dispatch
        concurrency: deploy-${{ github.ref_name }}
        jobs:
          a:
            runs-on: x
            steps: [{run: x}]
        """)
    runner = FakeRunner(app, "r", ["x"])
    first, second, third = dispatch(app), dispatch(app), dispatch(app)
    assert (first.status, second.status, third.status) == ("in_progress", "completed", "pending")
    assert second.conclusion == "cancelled"
    job = runner.take()
    assert job is not None
    runner.finish(job)
    assert third.status == "in_progress"


def test_cancel_run_cancels_queued_and_flags_running_jobs() -> None:
    app = make_app(DAG)
    runner = FakeRunner(app, "r", ["self-hosted"])
    run = dispatch(app)
    build = runner.take()
    assert build is not None
    app.engine.cancel_run("acme", "app", run.id)
    assert app.runners.heartbeat(runner.id, runner.session)["cancel_requested"] is True
    assert job_states(app, run)["test"] == ("completed", "cancelled")
    assert job_states(app, run)["report"] == ("queued", None)  # always() still runs after cancellation
    assert job_states(app, run)["after-report"] == ("completed", "cancelled")
    runner.finish(build, "cancelled")
    report = runner.take()
    assert report is not None and report["job_key"] == "report"
    runner.finish(report)
    assert run.conclusion == "cancelled"
    with pytest.raises(ApiError) as info:
        app.engine.cancel_run("acme", "app", run.id)
    assert info.value.status == 409


TIMERS = {"heartbeat_timeout_s": 30.0, "lease_timeout_s": 600.0, "queue_timeout_s": 300.0}
SIMPLE = """\
on: workflow_dispatch
jobs:
  deploy:
    runs-on: [self-hosted, primary]
    steps: [{run: x}]
"""


def test_lease_expiry_fails_job_without_reschedule() -> None:
    app = make_app(SIMPLE, **TIMERS)
    primary = FakeRunner(app, "primary", ["self-hosted", "primary"])
    run = dispatch(app)
    job = primary.take()
    assert job is not None
    now = time.monotonic()
    app.monitor.tick(now + 29)
    assert app.store.runners[primary.id].online
    app.monitor.tick(now + 31)
    assert not app.store.runners[primary.id].online
    assert job_states(app, run)["deploy"] == ("in_progress", None)
    app.monitor.tick(now + 601)
    record = app.engine.jobs_of(run)[0]
    assert (record.status, record.conclusion) == ("completed", "failure")
    assert "The runner has lost communication with the server" in record.annotations[0]["message"]
    backup = FakeRunner(app, "backup", ["self-hosted", "primary"])
    assert backup.take() is None  # not rescheduled
    with pytest.raises(ApiError) as info:
        app.runners.renew(job["job_id"], job["lease_token"])
    assert info.value.status == 410
    types = event_types(app)
    assert types.index("runner.offline") < types.index("job.lease_expired") < types.index("run.completed")


def test_queue_timeout_names_labels_and_counts_only_unmatched_time() -> None:
    app = make_app(SIMPLE, **TIMERS)
    run = dispatch(app)
    now = time.monotonic()
    app.monitor.tick(now)
    app.monitor.tick(now + 200)
    FakeRunner(app, "primary", ["self-hosted", "primary"])
    app.store.runners[1].last_seen = now + 250  # heartbeating: online + idle, so the clock resets
    app.monitor.tick(now + 250)
    assert job_states(app, run)["deploy"] == ("queued", None)
    app.monitor.tick(now + 281)  # heartbeat timeout: offline, the clock starts again
    assert not app.store.runners[1].online
    app.monitor.tick(now + 580)
    assert job_states(app, run)["deploy"] == ("queued", None)
    app.monitor.tick(now + 582)
    record = app.engine.jobs_of(run)[0]
    assert record.conclusion == "failure" and "self-hosted, primary" in record.annotations[0]["message"]


def test_reregistration_replaces_runner_and_frees_it() -> None:
    app = make_app(SIMPLE, **TIMERS)
    primary = FakeRunner(app, "primary", ["self-hosted", "primary"])
    dispatch(app)
    assert primary.take() is not None
    again = FakeRunner(app, "primary", ["self-hosted", "primary"])
    assert again.id == primary.id and not app.store.runners[again.id].busy
    with pytest.raises(ApiError):
        app.runners.heartbeat(primary.id, primary.session)  # old session is gone


def test_runtime_config_update_validates() -> None:
    config = SimConfig()
    config.update({"lease_timeout_s": 2})
    assert config.lease_timeout_s == 2.0
    with pytest.raises(ValueError, match="unknown"):
        config.update({"nope": 1})
    with pytest.raises(ValueError, match="positive"):
        config.update({"queue_timeout_s": 0})
    assert SimConfig.from_env({"SIM_QUEUE_TIMEOUT_S": "1.5"}).queue_timeout_s == 1.5
