"""harness.report.timeline: a scenario's timeline data from its journal entries, and its picture."""

from __future__ import annotations

import contextlib
import time
from typing import Any

from fixtures.environment import ScenarioState
from harness.core.types import Role
from harness.report.timeline import (
    NO_ANSWER,
    PRODUCTION_LANE,
    AlertMark,
    AlertSpan,
    FaultSpan,
    JobBar,
    TimelineData,
    VersionSegment,
    extract_timeline,
    lanes,
    redact_timeline,
    render_png,
)
from harness.topology.fake_environment import FakeEnvironment
from steps import deploy_steps, runner_steps

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
T0 = 1_700_000_000_000  # wall ms of scenario.start


class Entries:
    """A hand-built journal window: entries as the Journal writes them, at chosen times."""

    def __init__(self) -> None:
        self.entries: list[dict[str, Any]] = []

    def add(self, at_s: float, op: str, kind: str = "info", **data: Any) -> Entries:
        self.entries.append(
            {"v": 2, "seq": len(self.entries), "type": kind, "op": op, "ts_ms": T0 + int(at_s * 1000), **data}
        )
        return self

    def event(self, at_s: float, event_type: str, **fields: Any) -> Entries:
        """A GitHub event stamped by the simulator at `at_s`, journalled a little later (when polled)."""
        event = {"seq": len(self.entries), "ts_ms": T0 + int(at_s * 1000), "type": event_type, **fields}
        return self.add(at_s + 0.4, "github.event", event=event, feed="github.event-1")

    def components(self, at_s: float, **versions: str | None) -> Entries:
        return self.add(at_s, "production.sample", probe="components", versions=versions, lb={}, errors={})


def failover_journal() -> list[dict[str, Any]]:
    """Two runners, the primary offline 6 s → 20 s, the deploy on the secondary, production moving to 1.1.0."""
    j = Entries().add(0, "scenario.start", scenario="primary offline")
    j.add(0.5, "github.runners", runners=[{"name": "runner-primary"}, {"name": "runner-secondary"}])
    j.event(1, "job.started", run_id=7, job_key="health-gate", job_id=1, runner_name="runner-primary")
    j.event(5, "job.completed", run_id=7, job_key="health-gate", job_id=1, conclusion="success", started=True)
    j.add(5.9, "fault.inject", "invoke", fault="runner_offline", fault_id="f-1", runner_role="primary")
    j.add(6, "fault.inject", "ok", fault="runner_offline", fault_id="f-1", took_effect=True, runner_role="primary")
    j.add(6.5, "fault.inject", "fail", fault="service_down", fault_id="f-2", error="did not take effect")
    j.components(7, backend="1.0.0", frontend="1.0.0")
    j.event(8, "job.started", run_id=8, job_key="deploy", job_id=2, runner_name="runner-secondary")
    alerts = [
        {"metric": {"alertname": "RunnerOffline", "alertstate": "pending", "runner": "primary"}, "values": []},
        {"metric": {"alertname": "RunnerOffline", "alertstate": "firing", "runner": "primary"}, "values": []},
    ]
    alerts[0]["values"] = [[T0 / 1000 + s, 1.0] for s in (9, 10, 11)]
    alerts[1]["values"] = [[T0 / 1000 + s, 1.0] for s in (12, 13, 14)]
    j.add(14.5, "prometheus.range", selector='ALERTS{alertname="RunnerOffline",runner="primary"}', series=alerts)
    j.components(10, backend="1.1.0", frontend="1.0.0")
    j.components(12, backend="1.1.0", frontend=None)
    j.add(13.2, "oncall.message", message=_message(13, "firing"), feed="oncall.message-1")
    j.components(14, backend="1.1.0", frontend="1.1.0")
    j.event(15, "job.completed", run_id=8, job_key="deploy", job_id=2, conclusion="success", started=True)
    j.add(20, "fault.revert", "invoke", fault="runner_offline", fault_id="f-1")
    j.add(20, "fault.revert", "ok", fault="runner_offline", fault_id="f-1", leftovers=[])
    j.add(21.3, "oncall.message", message=_message(21, "resolved"), feed="oncall.message-1")
    j.add(22, "check.verdict", request={"check": "failover"}, result={"verdict": "passed"})
    return j.entries


def _message(at_s: float, status: str) -> dict[str, Any]:
    alert = {"status": status, "labels": {"alertname": "RunnerOffline", "runner": "primary", "severity": "critical"}}
    return {"seq": 1, "received_ms": T0 + int(at_s * 1000), "path": "/oncall", "body": {"alerts": [alert]}}


def test_the_failover_timeline_has_the_fault_window_and_both_runners() -> None:
    data = extract_timeline(failover_journal())

    assert data.scenario == "primary offline"
    assert data.start_ms == T0
    assert data.end_s == 22.0
    assert data.runners == ("runner-primary", "runner-secondary")
    assert data.faults == (FaultSpan("runner_offline (primary)", "f-1", 6.0, 20.0),)  # the failed inject has none


def test_jobs_are_bars_on_the_runner_that_ran_them_timed_by_the_events() -> None:
    data = extract_timeline(failover_journal())

    assert data.jobs == (
        JobBar("runner-primary", "health-gate", 7, 1.0, 5.0, "success"),
        JobBar("runner-secondary", "deploy", 8, 8.0, 15.0, "success"),
    )


def test_component_versions_are_runs_of_one_version_each() -> None:
    data = extract_timeline(failover_journal())

    assert data.components == ("backend", "frontend")
    assert [v for v in data.versions if v.component == "backend"] == [
        VersionSegment("backend", "1.0.0", 7.0, 10.0),
        VersionSegment("backend", "1.1.0", 10.0, 14.0),
    ]
    assert [v for v in data.versions if v.component == "frontend"] == [
        VersionSegment("frontend", "1.0.0", 7.0, 12.0),
        VersionSegment("frontend", NO_ANSWER, 12.0, 14.0),
        VersionSegment("frontend", "1.1.0", 14.0, 14.0),
    ]


def test_alert_states_are_spans_and_notifications_are_marks() -> None:
    data = extract_timeline(failover_journal())

    assert data.alerts == (
        AlertSpan("RunnerOffline{runner=primary}", "pending", 9.0, 12.0),
        AlertSpan("RunnerOffline{runner=primary}", "firing", 12.0, 15.0),
    )
    assert data.notifications == (
        AlertMark("RunnerOffline{runner=primary}", "firing", 13.0),
        AlertMark("RunnerOffline{runner=primary}", "resolved", 21.0),
    )
    assert lanes(data) == [
        ("runner", "runner-primary"),
        ("runner", "runner-secondary"),
        ("alert", "RunnerOffline{runner=primary}"),
        ("version", "backend"),
        ("version", "frontend"),
    ]


def test_alert_samples_far_apart_are_two_spans() -> None:
    series = [{"metric": {"alertname": "DeployLockStale", "alertstate": "firing"}, "values": []}]
    series[0]["values"] = [[T0 / 1000 + s, 1.0] for s in (1, 2, 3, 30, 31)]
    j = Entries().add(0, "scenario.start", scenario="s").add(32, "prometheus.range", selector="ALERTS{}", series=series)

    assert extract_timeline(j.entries).alerts == (
        AlertSpan("DeployLockStale", "firing", 1.0, 4.0),
        AlertSpan("DeployLockStale", "firing", 30.0, 32.0),
    )


def test_a_fault_never_reverted_and_a_job_never_completed_stay_open() -> None:
    j = Entries().add(0, "scenario.start", scenario="s")
    j.add(1, "fault.inject", "ok", fault="deploy_lock", fault_id="f-9", service="deploy lock")
    j.event(2, "job.started", run_id=1, job_key="deploy", job_id=5, runner_name="runner-primary")
    j.add(9, "watch.end", source="github.event", until_ms=T0 + 9000)

    data = extract_timeline(j.entries)

    assert data.faults == (FaultSpan("deploy_lock (deploy lock)", "f-9", 1.0, None),)
    assert data.jobs == (JobBar("runner-primary", "deploy", 1, 2.0, None, None),)
    assert render_png(data).startswith(PNG_MAGIC)


def test_a_job_started_before_the_window_is_drawn_from_its_start() -> None:
    j = Entries().add(0, "scenario.start", scenario="s")
    j.event(3, "job.completed", run_id=1, job_key="deploy", job_id=5, conclusion="failure", started=True,
            runner_name="runner-secondary")  # fmt: skip

    assert extract_timeline(j.entries).jobs == (JobBar("runner-secondary", "deploy", 1, 0.0, 3.0, "failure"),)


def test_the_load_balancers_version_probe_has_a_lane_of_its_own() -> None:
    j = Entries().add(0, "scenario.start", scenario="s")
    j.add(1, "production.sample", probe="version", version="1.0.0", error=None)
    j.add(2, "production.sample", probe="health", status=200, healthy=True, error=None)
    j.add(5, "production.sample", probe="version", version="1.1.0", error=None)

    assert extract_timeline(j.entries).versions == (
        VersionSegment(PRODUCTION_LANE, "1.0.0", 1.0, 5.0),
        VersionSegment(PRODUCTION_LANE, "1.1.0", 5.0, 5.0),
    )


def test_render_returns_a_png() -> None:
    png = render_png(extract_timeline(failover_journal()))
    assert png.startswith(PNG_MAGIC) and len(png) > 10_000


def test_an_empty_journal_is_empty_data_and_still_a_valid_picture() -> None:
    for entries in ([], Entries().add(0, "scenario.start", scenario="quiet").entries):
        data = extract_timeline(entries)
        assert data.empty
        assert render_png(data).startswith(PNG_MAGIC)
    assert extract_timeline([]) == TimelineData("", 0, 0.0)


def test_redaction_masks_secrets_in_every_label() -> None:
    j = Entries().add(0, "scenario.start", scenario="s")
    j.event(1, "job.started", run_id=1, job_key="deploy-hunter22", job_id=1, runner_name="runner-hunter22")
    j.components(2, backend="hunter22")

    data = redact_timeline(extract_timeline(j.entries), ["hunter22"])

    assert "hunter22" not in repr(data)
    assert data.runners == ("runner-***",)
    assert data.jobs[0].job == "deploy-***" and data.versions[0].version == "***"
    assert redact_timeline(data, []) is data


def test_a_scenario_on_the_fake_environment_draws_its_fault_window_and_runners() -> None:
    """Entries the harness itself wrote (steps on a FakeEnvironment), not hand-built ones."""
    env = FakeEnvironment().with_runner("primary").with_runner("secondary").with_production_version("1.0.0")
    with env, contextlib.ExitStack() as stack:
        state = ScenarioState.begin(env, "primary offline", stack)
        first = len(env.journal.entries()) - 1
        runner_steps.healthy_runners(state)
        runner_steps.runner_goes_offline(state, Role.PRIMARY)
        deploy_steps.deploy_triggered(state, "1.1.0")
        time.sleep(0.02)
        env.complete_deploy(state.run_id, role="secondary")
        state.feed.poll()
        env.github.runners()
    data = extract_timeline(env.journal.entries()[first:])

    assert data.scenario == "primary offline"
    assert {"runner-primary", "runner-secondary"} <= set(data.runners)
    [fault] = data.faults
    assert fault.label == "runner_offline (primary)" and fault.end_s is not None
    assert [(j.runner, j.job, j.conclusion) for j in data.jobs] == [("runner-secondary", "deploy", "success")]
    assert fault.start_s <= data.jobs[0].start_s
    assert render_png(data).startswith(PNG_MAGIC)
