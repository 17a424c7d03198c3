"""ComponentsClient: one concurrent read of every component, journalled as one components sample."""

from __future__ import annotations

import threading
import time

import httpx
import pytest

from harness.core.journal import Journal
from harness.drivers.components import (
    SCHEMA,
    ComponentsClient,
    FakeComponents,
    FakeSchema,
    PgSchemaReader,
    backend_key,
    frontend_key,
)

KEYS = ["backend@prod-web-1", "backend@prod-web-2", "frontend@prod-web-1", "frontend@prod-web-2", "schema"]


def test_a_read_reports_every_component_and_the_lbs_answers() -> None:
    fake = FakeComponents("1.0.0")
    journal = Journal("t")
    reading = fake.client(journal=journal).read()
    assert reading.versions == dict.fromkeys(KEYS, "1.0.0")
    assert reading.lb == {"api_version": "1.0.0", "frontend_version": "1.0.0", "health_status": 200, "health": "ok"}
    assert reading.errors == {}
    assert reading.all_at("1.0.0") and not reading.mixed
    [entry] = journal.entries("production.sample")
    assert entry["probe"] == "components" and list(entry["versions"]) == KEYS
    assert entry["versions"] == reading.versions and entry["lb"] == reading.lb and entry["errors"] == {}
    assert entry["read_ms"] >= 0


def test_a_mixed_production_is_read_as_mixed() -> None:
    fake = FakeComponents("1.0.0")
    fake.set(backend_key("prod-web-2"), "1.1.0")
    fake.set(SCHEMA, "1.1.0")
    reading = fake.client().read()
    assert reading.mixed and not reading.all_at("1.0.0")
    assert reading.versions[backend_key("prod-web-2")] == reading.versions[SCHEMA] == "1.1.0"


def test_a_component_that_does_not_answer_is_unknown_with_its_error_and_the_rest_is_read() -> None:
    fake = FakeComponents("1.0.0")
    fake.set(frontend_key("prod-web-1"), None)
    fake.schema.answering = False
    fake.lb_health = None
    journal = Journal("t")
    reading = fake.client(journal=journal).read()
    assert reading.versions[frontend_key("prod-web-1")] is None and reading.versions[SCHEMA] is None
    assert reading.versions[backend_key("prod-web-1")] == "1.0.0"
    assert not reading.mixed  # unknown is not a version
    assert set(reading.errors) == {frontend_key("prod-web-1"), SCHEMA, "lb /api/health"}
    assert reading.errors[SCHEMA].startswith("ConnectionError: ")
    assert reading.lb["health_status"] is None
    assert journal.entries("production.sample")[0]["errors"] == reading.errors


def test_an_unhealthy_lb_answer_is_recorded_with_its_status() -> None:
    fake = FakeComponents("1.0.0")
    fake.lb_health = 503
    reading = fake.client().read()
    assert reading.lb["health_status"] == 503 and reading.lb["health"] == "failing"
    assert reading.errors == {}  # a 503 is an answer, not an error


def test_an_answer_without_a_version_is_an_error_not_a_version() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(200, json={"status": "ok"}))
    client = ComponentsClient({"h": "http://b"}, {}, "http://lb", FakeSchema("1.0.0"), transport=transport)
    reading = client.read()
    assert reading.versions == {"backend@h": None, "schema": "1.0.0"}
    assert "no version in the answer" in reading.errors["backend@h"]


def test_probes_go_out_concurrently() -> None:
    """Eight probes of 50 ms each take about 50 ms, not 400: fast enough for a 100 ms sampling period."""

    def slow(request: httpx.Request) -> httpx.Response:
        time.sleep(0.05)
        if request.url.path == "/api/health":
            return httpx.Response(200, json={"status": "ok"})
        return httpx.Response(200, json={"version": "1.0.0"})

    class SlowSchema(FakeSchema):
        def read(self) -> str:
            time.sleep(0.05)
            return "1.0.0"

    hosts = {"a": "http://a", "b": "http://b"}
    client = ComponentsClient(hosts, hosts, "http://lb", SlowSchema("1.0.0"), transport=httpx.MockTransport(slow))
    started = time.monotonic()
    assert client.read().all_at("1.0.0")
    assert time.monotonic() - started < 0.2
    client.close()


def test_broken_releases_are_read_from_every_backend() -> None:
    fake = FakeComponents("1.0.0")
    fake.broken["prod-web-1"] = {"2.0.0"}
    fake.set(backend_key("prod-web-2"), None)
    journal = Journal("t")
    assert fake.client(journal=journal).broken_releases() == {"prod-web-1": ["2.0.0"], "prod-web-2": None}
    [entry] = journal.entries("production.sample")
    assert entry["probe"] == "broken_releases" and "prod-web-2" in entry["errors"]


class FakeConnection:
    """pg8000.native.Connection's run/close, failing when told to."""

    def __init__(self, rows: list[list[str]], fail: bool = False) -> None:
        self.rows, self.fail, self.closed, self.runs = rows, fail, False, 0

    def run(self, sql: str) -> list[list[str]]:
        self.runs += 1
        if self.fail:
            raise OSError("connection reset")
        return self.rows

    def close(self) -> None:
        self.closed = True


def test_the_schema_reader_keeps_one_connection_and_opens_a_new_one_after_an_error() -> None:
    made: list[FakeConnection] = []

    def connect() -> FakeConnection:
        made.append(FakeConnection([["1.0.0"]]))
        return made[-1]

    reader = PgSchemaReader("h", 1, "pw", connect=connect)
    assert [reader.read() for _ in range(3)] == ["1.0.0"] * 3
    assert len(made) == 1 and made[0].runs == 3
    made[0].fail = True
    with pytest.raises(OSError, match="reset"):
        reader.read()
    assert made[0].closed
    assert reader.read() == "1.0.0" and len(made) == 2
    reader.close()
    assert made[1].closed


def test_the_schema_reader_wants_exactly_one_row() -> None:
    reader = PgSchemaReader("h", 1, "pw", connect=lambda: FakeConnection([]))
    with pytest.raises(LookupError, match="0 rows"):
        reader.read()


def test_the_schema_reader_is_safe_to_share_between_threads() -> None:
    active: list[int] = []
    overlaps: list[int] = []

    class Exclusive(FakeConnection):
        def run(self, sql: str) -> list[list[str]]:
            active.append(1)
            if len(active) > 1:
                overlaps.append(len(active))  # two threads inside one connection at once
            time.sleep(0.005)
            active.pop()
            return [["1.0.0"]]

    reader = PgSchemaReader("h", 1, "pw", connect=lambda: Exclusive([]))
    threads = [threading.Thread(target=reader.read) for _ in range(5)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert overlaps == []
