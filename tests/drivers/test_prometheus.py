"""PrometheusClient journals what it observes: instant queries, range samples (each once), readiness."""

from __future__ import annotations

import json
import threading

import pytest

from harness.core.errors import TopologyError
from harness.core.journal import Journal
from harness.drivers.fakes import FakePrometheus

UP_PRIMARY = {"__name__": "up", "job": "github-runners", "runner": "primary"}
UP_SECONDARY = {"__name__": "up", "job": "github-runners", "runner": "secondary"}
SELECTOR = 'up{job="github-runners"}'


def _journal() -> Journal:
    return Journal(run_id="t")


def test_query_records_query_time_and_result() -> None:
    fake = FakePrometheus()
    fake.add_sample(UP_PRIMARY, 100.0, 1)
    journal = _journal()
    client = fake.client(journal=journal)

    result = client.query('up{runner="primary"}', at=100.5)

    [entry] = journal.entries("prometheus.query")
    assert entry["type"] == "info"
    assert entry["query"] == 'up{runner="primary"}'
    assert entry["at"] == 100.5
    assert entry["result"] == result == [{"metric": UP_PRIMARY, "value": [100.5, "1"]}]


def test_query_without_time_records_at_none() -> None:
    fake = FakePrometheus()
    fake.add_sample(UP_PRIMARY, 100.0, 0)
    journal = _journal()
    fake.client(journal=journal).query("up")
    assert journal.entries("prometheus.query")[0]["at"] is None


def test_journalled_result_is_a_copy() -> None:
    fake = FakePrometheus()
    fake.add_sample(UP_PRIMARY, 100.0, 1)
    journal = _journal()
    result = fake.client(journal=journal).query("up")
    result[0]["metric"]["runner"] = "mutated"
    assert journal.entries("prometheus.query")[0]["result"][0]["metric"]["runner"] == "primary"


def test_failed_query_raises_and_records_nothing() -> None:
    journal = _journal()
    with pytest.raises(TopologyError):
        FakePrometheus().client(journal=journal).query("sum(up)")
    assert journal.entries("prometheus.query") == []


def test_range_records_only_new_samples_across_polls_of_a_growing_series() -> None:
    fake = FakePrometheus()
    fake.add_sample(UP_PRIMARY, 100.0, 1)
    fake.add_sample(UP_PRIMARY, 101.0, 1)
    journal = _journal()
    client = fake.client(journal=journal)

    first = client.samples(SELECTOR, 60)
    fake.add_sample(UP_PRIMARY, 102.0, 0)
    fake.add_sample(UP_PRIMARY, 103.0, 0)
    second = client.samples(SELECTOR, 60)

    assert first == [(100.0, 1.0), (101.0, 1.0)]
    assert second == [(100.0, 1.0), (101.0, 1.0), (102.0, 0.0), (103.0, 0.0)]  # full window, unchanged
    entries = journal.entries("prometheus.range")
    assert [e["selector"] for e in entries] == [SELECTOR, SELECTOR]
    assert [e["window_s"] for e in entries] == [60, 60]
    assert entries[0]["series"] == [{"metric": UP_PRIMARY, "values": [[100.0, 1.0], [101.0, 1.0]]}]
    assert entries[1]["series"] == [{"metric": UP_PRIMARY, "values": [[102.0, 0.0], [103.0, 0.0]]}]
    assert not journal.entries("prometheus.query")


def test_range_poll_without_new_samples_is_still_recorded() -> None:
    fake = FakePrometheus()
    fake.add_sample(UP_PRIMARY, 100.0, 1)
    journal = _journal()
    client = fake.client(journal=journal)

    client.samples(SELECTOR, 60)
    client.samples(SELECTOR, 60)
    client.samples('up{runner="nobody"}', 60)

    entries = journal.entries("prometheus.range")
    assert len(entries) == 3
    assert entries[1]["series"] == [{"metric": UP_PRIMARY, "values": []}]
    assert entries[2]["series"] == []


def test_range_memory_is_per_selector_and_per_series() -> None:
    fake = FakePrometheus()
    fake.add_sample(UP_PRIMARY, 100.0, 1)
    fake.add_sample(UP_SECONDARY, 100.0, 1)
    journal = _journal()
    client = fake.client(journal=journal)

    series = client.series_samples(SELECTOR, 30)
    client.samples('up{runner="primary"}', 30)  # another selector: its samples are journalled for it too
    fake.add_sample(UP_SECONDARY, 101.0, 0)
    client.series_samples(SELECTOR, 30)

    assert series == [
        {"metric": UP_PRIMARY, "values": [(100.0, 1.0)]},
        {"metric": UP_SECONDARY, "values": [(100.0, 1.0)]},
    ]
    first, other, third = journal.entries("prometheus.range")
    assert first["series"] == [
        {"metric": UP_PRIMARY, "values": [[100.0, 1.0]]},
        {"metric": UP_SECONDARY, "values": [[100.0, 1.0]]},
    ]
    assert other["selector"] == 'up{runner="primary"}'
    assert other["series"] == [{"metric": UP_PRIMARY, "values": [[100.0, 1.0]]}]
    assert third["series"] == [
        {"metric": UP_PRIMARY, "values": []},
        {"metric": UP_SECONDARY, "values": [[101.0, 0.0]]},
    ]


def test_range_memory_is_per_client_instance() -> None:
    fake = FakePrometheus()
    fake.add_sample(UP_PRIMARY, 100.0, 1)
    journal = _journal()
    fake.client(journal=journal).samples(SELECTOR, 60)
    fake.client(journal=journal).samples(SELECTOR, 60)
    assert [e["series"][0]["values"] for e in journal.entries("prometheus.range")] == [[[100.0, 1.0]], [[100.0, 1.0]]]


def test_concurrent_polls_journal_every_sample_exactly_once() -> None:
    fake = FakePrometheus()
    journal = _journal()
    client = fake.client(journal=journal)
    stop = threading.Event()

    def poll() -> None:
        while not stop.is_set():
            client.samples(SELECTOR, 3600)

    pollers = [threading.Thread(target=poll) for _ in range(4)]
    for thread in pollers:
        thread.start()
    for ts in range(200):
        fake.add_sample(UP_PRIMARY, 1000.0 + ts, ts % 2)
    stop.set()
    for thread in pollers:
        thread.join()
    client.samples(SELECTOR, 3600)

    seen = [ts for e in journal.entries("prometheus.range") for s in e["series"] for ts, _ in s["values"]]
    assert sorted(seen) == [1000.0 + ts for ts in range(200)]


def test_ready_is_recorded_true_and_false() -> None:
    fake = FakePrometheus()
    journal = _journal()
    client = fake.client(journal=journal)
    assert client.ready() is True
    fake.ready = False
    assert client.ready() is False
    fake.answering = False
    assert client.ready() is False
    assert [e["ready"] for e in journal.entries("prometheus.ready")] == [True, False, False]


def test_entries_are_json_serialisable() -> None:
    fake = FakePrometheus()
    fake.add_sample(UP_PRIMARY, 100.0, 1)
    journal = _journal()
    client = fake.client(journal=journal)
    client.query("up")
    client.samples(SELECTOR, 10)
    client.ready()
    for entry in journal.entries():
        assert json.loads(json.dumps(entry)) == entry


def test_nothing_recorded_without_a_journal() -> None:
    fake = FakePrometheus()
    fake.add_sample(UP_PRIMARY, 100.0, 1)
    client = fake.client()
    assert client.journal is None
    assert client.query("up")
    assert client.samples(SELECTOR, 10) == [(100.0, 1.0)]
    assert client.series_samples(SELECTOR, 10)
    assert client.ready()
    assert client._newest == {}
