"""GitHubClient journals what it observes; polled answers only when they changed, secrets by name only."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from harness.core.errors import TopologyError
from harness.core.journal import Journal
from harness.drivers.fakes import FakeGitHub
from harness.drivers.github import GitHubClient


def _setup() -> tuple[FakeGitHub, Journal, GitHubClient]:
    fake = FakeGitHub()
    journal = Journal(run_id="t")
    return fake, journal, fake.client(journal=journal)


def _ops(journal: Journal) -> list[str]:
    return [e["op"] for e in journal.entries() if e["op"] != "journal.start"]


def test_dispatch_records_workflow_inputs_and_run_id() -> None:
    fake, journal, client = _setup()
    run_id = client.dispatch("deploy.yml", {"version": "1.1.0"})
    assert fake.runs[run_id]["inputs"] == {"version": "1.1.0"}
    [entry] = journal.entries("github.dispatch")
    assert entry["type"] == "info"
    assert (entry["workflow"], entry["inputs"], entry["run_id"]) == ("deploy.yml", {"version": "1.1.0"}, run_id)


def test_run_and_jobs_are_recorded_on_every_call() -> None:
    fake, journal, client = _setup()
    run_id = fake.add_run(status="in_progress")
    job_id = fake.add_job(run_id, "deploy", status="in_progress")

    run = client.run(run_id)
    client.run(run_id)
    jobs = client.jobs(run_id)

    runs = journal.entries("github.run")
    assert len(runs) == 2
    assert runs[0]["run_id"] == run_id
    assert runs[0]["run"] == run
    assert run["status"] == "in_progress"
    [jobs_entry] = journal.entries("github.jobs")
    assert jobs_entry["run_id"] == run_id
    assert jobs_entry["jobs"] == jobs
    assert [j["id"] for j in jobs] == [job_id]


def test_job_log_recorded_only_when_it_changed() -> None:
    fake, journal, client = _setup()
    job_id = fake.add_job(fake.add_run(), "deploy")
    other = fake.add_job(fake.add_run(), "deploy")
    fake.append_log(job_id, "step 1")

    assert client.job_logs(job_id) == "step 1\n"
    client.job_logs(job_id)
    client.job_logs(job_id)
    fake.append_log(job_id, "step 2")
    assert client.job_logs(job_id) == "step 1\nstep 2\n"
    client.job_logs(job_id)
    client.job_logs(other)

    entries = journal.entries("github.job_log")
    assert [(e["job_id"], e["log"]) for e in entries] == [
        (job_id, "step 1\n"),
        (job_id, "step 1\nstep 2\n"),
        (other, ""),
    ]


def test_unavailable_job_log_returns_empty_and_is_not_recorded() -> None:
    _, journal, client = _setup()
    assert client.job_logs(999) == ""
    assert journal.entries("github.job_log") == []


def test_job_detail_recorded_only_when_it_changed() -> None:
    fake, journal, client = _setup()
    job_id = fake.add_job(fake.add_run(), "deploy")

    client.job_detail(job_id)
    client.job_detail(job_id)
    fake.set_job_detail(job_id, summary="## deployed 1.1.0", outputs={"runner": "primary"})
    detail = client.job_detail(job_id)
    client.job_detail(job_id)

    entries = journal.entries("github.job")
    assert len(entries) == 2
    assert entries[0]["job_id"] == job_id
    assert entries[0]["job"]["summary"] == ""
    assert entries[1]["job"] == detail
    assert detail["outputs"] == {"runner": "primary"}


def test_runners_recorded_only_when_they_changed() -> None:
    fake, journal, client = _setup()
    fake.add_runner("runner-primary", ["self-hosted", "primary"])
    fake.add_runner("runner-secondary", ["self-hosted", "secondary"])

    client.runners()
    client.runners()
    fake.set_runner("runner-primary", online=False)
    runners = client.runners()
    client.runners()

    entries = journal.entries("github.runners")
    assert len(entries) == 2
    assert [r["status"] for r in entries[0]["runners"]] == ["online", "online"]
    assert entries[1]["runners"] == runners
    assert [r["status"] for r in runners] == ["offline", "online"]


def test_mutating_a_returned_answer_does_not_defeat_change_detection() -> None:
    fake, journal, client = _setup()
    fake.add_runner("runner-primary", ["self-hosted"])
    client.runners()[0]["status"] = "mutated by caller"
    client.runners()
    assert len(journal.entries("github.runners")) == 1
    assert journal.entries("github.runners")[0]["runners"][0]["status"] == "online"


def test_cancel_records_the_status_code() -> None:
    fake, journal, client = _setup()
    run_id = fake.add_run(status="in_progress")
    client.cancel(run_id)
    client.cancel(run_id)  # already completed: 409, tolerated
    with pytest.raises(TopologyError):
        client.cancel(12345)
    assert fake.runs[run_id]["conclusion"] == "cancelled"
    got = [(e["run_id"], e["status_code"]) for e in journal.entries("github.cancel")]
    assert got == [(run_id, 202), (run_id, 409), (12345, 404)]


def test_set_secret_records_the_name_never_the_value() -> None:
    fake, journal, client = _setup()
    secret = "-----BEGIN OPENSSH PRIVATE KEY----- s3cr3t-value-XYZ"
    client.set_secret("DEPLOY_SSH_KEY", secret)
    assert fake.secrets["DEPLOY_SSH_KEY"] == secret
    [entry] = journal.entries("github.secret_set")
    assert entry["name"] == "DEPLOY_SSH_KEY"
    envelope = set(Journal(run_id="envelope").info("x"))
    assert set(entry) - envelope == {"name"}
    assert "s3cr3t-value-XYZ" not in json.dumps(journal.entries())


def test_set_secret_journal_file_never_holds_the_value(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    fake = FakeGitHub()
    client = fake.client(journal=Journal(run_id="t", path=path))
    client.set_secret("DEPLOY_SSH_CERT", "cert-value-ABC")
    assert "DEPLOY_SSH_CERT" in path.read_text()
    assert "cert-value-ABC" not in path.read_text()


def test_events_are_not_recorded() -> None:
    fake, journal, client = _setup()
    fake.add_run()
    fake.emit("job.queued", job_id=1)
    events = client.events()
    assert [e["type"] for e in events] == ["run.queued", "job.queued"]
    assert [e["seq"] for e in client.events(after=1)] == [2]
    assert _ops(journal) == []


def test_nothing_recorded_without_a_journal() -> None:
    fake = FakeGitHub()
    client = fake.client()
    assert client.journal is None
    run_id = client.dispatch("deploy.yml", {"version": "1.1.0"})
    job_id = fake.add_job(run_id, "deploy")
    fake.add_runner("runner-primary", ["self-hosted"])
    client.run(run_id)
    client.jobs(run_id)
    client.job_logs(job_id)
    client.job_detail(job_id)
    client.runners()
    client.set_secret("X", "y")
    client.cancel(run_id)
    assert client._recorder._last == {}


def test_custom_transport_is_used() -> None:
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json={"id": 7, "status": "completed"})

    journal = Journal(run_id="t")
    client = GitHubClient("http://gh.test", "o/r", journal=journal, transport=httpx.MockTransport(handler))
    assert client.run(7) == {"id": 7, "status": "completed"}
    assert seen == ["/repos/o/r/actions/runs/7"]
    assert journal.entries("github.run")[0]["run"] == {"id": 7, "status": "completed"}
