"""SinkClient reads the on-call's inbox; messages are journalled by a feed elsewhere, not by the client."""

from __future__ import annotations

from harness.core.journal import Journal
from harness.drivers.fakes import FakeSink


def test_messages_after_a_sequence_number() -> None:
    fake = FakeSink()
    fake.add("/oncall", {"alerts": [{"labels": {"alertname": "RunnerDown"}}]}, received_ms=1000)
    fake.add("/team", {"text": "deploy failed"}, received_ms=2000)
    client = fake.client()
    assert [m["seq"] for m in client.messages()] == [0, 1]
    [second] = client.messages(after=0)
    assert second == {"seq": 1, "received_ms": 2000, "path": "/team", "body": {"text": "deploy failed"}}


def test_messages_are_not_journalled() -> None:
    fake = FakeSink()
    fake.add("/oncall", {"x": 1})
    journal = Journal(run_id="t")
    client = fake.client(journal=journal)
    assert client.journal is journal
    assert len(client.messages()) == 1
    assert [e["op"] for e in journal.entries()] == ["journal.start"]
