"""The in-memory fakes answer like the services they stand in for (shapes of the real endpoints)."""

from __future__ import annotations

import httpx
import pytest

from harness.core.errors import TopologyError
from harness.drivers.fakes import FakeGitHub, FakeProduction, FakePrometheus, FakeSink

UP = {"__name__": "up", "job": "github-runners", "runner": "primary"}


def test_prometheus_range_window_is_relative_to_the_query_time() -> None:
    fake = FakePrometheus()
    for ts in (100.0, 110.0, 120.0, 130.0):
        fake.add_sample(UP, ts, 1)
    client = fake.client()
    assert [ts for ts, _ in client.samples("up", 15)] == [120.0, 130.0]  # relative to the newest sample
    fake.now = 120.5
    assert [ts for ts, _ in client.samples("up", 15)] == [110.0, 120.0]
    fake.now = 115.0
    assert [ts for ts, _ in client.samples("up", 15)] == [110.0]  # (now - window, now]: 100.0 is out
    body = client._http.get("/api/v1/query", params={"query": "up[10s]", "time": 120}).json()
    assert body["data"]["resultType"] == "matrix"
    assert body["data"]["result"] == [{"metric": UP, "values": [[120.0, "1"]]}]


def test_prometheus_instant_query_latest_sample_with_lookback_and_matchers() -> None:
    fake = FakePrometheus()
    fake.add_sample(UP, 100.0, 1)
    fake.add_sample(UP, 200.0, 0)
    fake.add_sample({**UP, "runner": "secondary"}, 200.0, 1)
    client = fake.client()
    assert client.query('up{runner="primary"}', at=150) == [{"metric": UP, "value": [150.0, "1"]}]
    assert client.query('up{runner="primary"}', at=1000) == []  # older than the 5-minute lookback
    assert [r["metric"]["runner"] for r in client.query('up{runner=~"prim.*|sec.*"}')] == ["primary", "secondary"]
    assert [r["metric"]["runner"] for r in client.query('{job="github-runners", runner!="primary"}')] == ["secondary"]
    assert client.query('up{runner!~"sec.*"}') == [{"metric": UP, "value": [200.0, "0"]}]
    assert client.query("ALERTS") == []


def test_prometheus_rejects_what_it_does_not_understand() -> None:
    with pytest.raises(TopologyError, match="bad_data"):
        FakePrometheus().client().query("sum by (runner) (up)")


def test_prometheus_ready_alertmanagers_targets_and_outage() -> None:
    fake = FakePrometheus()
    fake.targets = [{"labels": {"runner": "primary"}, "health": "up"}]
    client = fake.client()
    assert client.ready()
    assert client.alertmanagers_active() == 1
    assert client.targets() == [{"labels": {"runner": "primary"}, "health": "up"}]
    fake.answering = False
    assert not client.ready()
    with pytest.raises(httpx.ConnectError):
        client.query("up")


def test_github_dispatch_creates_a_queued_run_and_an_event() -> None:
    fake = FakeGitHub()
    client = fake.client()
    run_id = client.dispatch("deploy.yml", {"version": "1.1.0"}, ref="main")
    run = client.run(run_id)
    assert (run["id"], run["status"], run["conclusion"], run["inputs"]) == (
        run_id,
        "queued",
        None,
        {"version": "1.1.0"},
    )
    assert fake.dispatches == [
        {"workflow": "deploy.yml", "inputs": {"version": "1.1.0"}, "ref": "main", "run_id": run_id}
    ]
    [event] = client.events()
    assert (event["seq"], event["type"], event["run_id"]) == (1, "run.queued", run_id)
    assert isinstance(event["ts_ms"], int)


def test_github_events_after_and_run_lifecycle() -> None:
    fake = FakeGitHub()
    client = fake.client()
    run_id = fake.add_run()
    job_id = fake.add_job(run_id, "deploy", labels=["self-hosted", "primary"])
    fake.set_job(job_id, status="completed", conclusion="success", runner_name="runner-primary")
    fake.set_run(run_id, status="completed", conclusion="success")
    assert [e["type"] for e in client.events(after=1)] == ["run.completed"]
    assert client.jobs(run_id)[0]["runner_name"] == "runner-primary"
    assert client.job_detail(job_id)["labels"] == ["self-hosted", "primary"]


def test_github_cancel_runners_secrets_variables_and_errors() -> None:
    fake = FakeGitHub()
    client = fake.client()
    run_id = fake.add_run(status="in_progress")
    job_id = fake.add_job(run_id, "deploy", status="in_progress")
    client.cancel(run_id)
    assert (fake.runs[run_id]["conclusion"], fake.jobs[job_id]["conclusion"]) == ("cancelled", "cancelled")
    assert [e["type"] for e in client.events()][-2:] == ["run.cancel_requested", "run.completed"]
    fake.add_runner("runner-primary", ["self-hosted", "primary"], online=False)
    assert client.runners()[0]["labels"][1] == {"id": 2, "name": "primary", "type": "custom"}
    client.set_variable("PROD_HOST", "prod-web-1")
    client.configure(heartbeat_timeout_s=2.0)
    assert fake.variables == {"PROD_HOST": "prod-web-1"}
    assert fake.config == {"heartbeat_timeout_s": 2.0}
    assert client.upload_repository(b"tarball") == [".github/workflows/deploy.yml"]
    assert client.healthy()
    with pytest.raises(TopologyError, match="404"):
        client.run(999)
    with pytest.raises(TopologyError, match="404"):
        other_repo = fake.client()
        other_repo.repo = "other/repo"
        other_repo.jobs(run_id)
    fake.answering = False
    assert not client.healthy()


def test_production_version_health_and_not_answering() -> None:
    fake = FakeProduction(version="1.0.0")
    client = fake.client()
    assert (client.version(), client.healthy(), client.answers()) == ("1.0.0", True, True)
    fake.version, fake.status = "1.1.0", 503
    assert (client.version(), client.healthy()) == ("1.1.0", False)
    assert client._http.get("/health").json() == {"status": "failing", "version": "1.1.0"}
    fake.answering = False
    assert (client.version(), client.healthy(), client.answers()) == (None, False, False)
    with pytest.raises(httpx.ConnectError):
        client._http.get("/version")


def test_sink_records_posts_and_serves_them_after_a_seq() -> None:
    fake = FakeSink()
    http = httpx.Client(base_url=fake.base_url, transport=fake.transport)
    assert http.post("/oncall", json={"status": "firing"}).json() == {"seq": 0}
    assert http.post("/team", content=b"not json").json() == {"seq": 1}
    client = fake.client()
    first, second = client.messages()
    assert (first["path"], first["body"]) == ("/oncall", {"status": "firing"})
    assert second["body"] == {"raw": "not json"}
    assert [m["seq"] for m in client.messages(after=0)] == [1]
    assert http.get("/elsewhere").status_code == 404
    assert fake.requests[:2] == [("POST", "/oncall"), ("POST", "/team")]
