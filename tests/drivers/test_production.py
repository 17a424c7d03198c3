"""ProductionClient journals every probe as production.sample, including when production does not answer."""

from __future__ import annotations

import httpx

from harness.core.journal import Journal
from harness.drivers.fakes import FakeProduction
from harness.drivers.production import ProductionClient


def test_version_probe_is_recorded() -> None:
    journal = Journal(run_id="t")
    client = FakeProduction(version="1.2.3").client(journal=journal)
    assert client.version() == "1.2.3"
    [entry] = journal.entries("production.sample")
    assert entry["type"] == "info"
    assert {k: entry[k] for k in ("probe", "version", "error")} == {
        "probe": "version",
        "version": "1.2.3",
        "error": None,
    }


def test_version_when_production_does_not_answer_records_the_error() -> None:
    fake = FakeProduction()
    fake.answering = False
    journal = Journal(run_id="t")
    assert fake.client(journal=journal).version() is None
    [entry] = journal.entries("production.sample")
    assert entry["probe"] == "version"
    assert entry["version"] is None
    assert entry["error"].startswith("ConnectError: ")


def test_health_probe_records_status_and_verdict() -> None:
    fake = FakeProduction()
    journal = Journal(run_id="t")
    client = fake.client(journal=journal)
    assert client.healthy() is True
    fake.status = 503
    assert client.healthy() is False
    fake.answering = False
    assert client.healthy() is False
    got = [(e["probe"], e["status"], e["healthy"], e["error"] is None) for e in journal.entries("production.sample")]
    assert got == [("health", 200, True, True), ("health", 503, False, True), ("health", None, False, False)]


def test_answers_probe_is_recorded() -> None:
    fake = FakeProduction()
    journal = Journal(run_id="t")
    client = fake.client(journal=journal)
    assert client.answers() is True
    fake.answering = False
    assert client.answers(timeout=0.1) is False
    first, second = journal.entries("production.sample")
    assert (first["probe"], first["answers"], first["error"]) == ("answers", True, None)
    assert (second["probe"], second["answers"]) == ("answers", False)
    assert "ConnectError" in second["error"]


def test_nothing_recorded_without_a_journal() -> None:
    fake = FakeProduction(version="2.0.0", status=503)
    client = fake.client()
    assert client.journal is None
    assert client.version() == "2.0.0"
    assert client.healthy() is False
    assert client.answers() is True


def test_a_base_url_with_a_path_reaches_the_lbs_api() -> None:
    """In the Docker topology production is prod-lb's /api/: /version is asked as /api/version."""
    seen: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request.url.path)
        return httpx.Response(200, json={"version": "1.0.0", "status": "ok"})

    client = ProductionClient("http://lb.fake/api", transport=httpx.MockTransport(handler))
    assert client.version() == "1.0.0" and client.healthy() and client.answers()
    assert seen == ["/api/version", "/api/health", "/api/version"]
