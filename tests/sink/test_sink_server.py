"""harness.sink.server: the webhook sink records what reaches the on-call, with arrival times."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from http.server import ThreadingHTTPServer

import httpx
import pytest

from harness.sink.server import Inbox, make_handler


@pytest.fixture
def sink_url() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(Inbox()))
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture
def client(sink_url: str) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=sink_url, timeout=5.0) as http:
        yield http


def messages(client: httpx.Client, after: int) -> list[dict]:
    response = client.get("/_sink/messages", params={"after": after})
    assert response.status_code == 200
    return response.json()["messages"]


def test_posts_are_recorded_in_order_with_path_and_arrival(client: httpx.Client) -> None:
    before = int(time.time() * 1000)
    first = client.post("/oncall", json={"status": "firing", "alerts": [{"status": "firing"}]})
    second = client.post("/slack", json={"text": "deploy failed"})
    after = int(time.time() * 1000)
    assert (first.status_code, first.json()) == (200, {"seq": 0})
    assert (second.status_code, second.json()) == (200, {"seq": 1})
    got = messages(client, -1)
    assert [m["seq"] for m in got] == [0, 1]
    assert [m["path"] for m in got] == ["/oncall", "/slack"]
    assert got[0]["body"] == {"status": "firing", "alerts": [{"status": "firing"}]}
    assert got[1]["body"] == {"text": "deploy failed"}
    for m in got:
        assert before <= m["received_ms"] <= after
    assert got[0]["received_ms"] <= got[1]["received_ms"]


def test_after_returns_only_newer_messages(client: httpx.Client) -> None:
    client.post("/oncall", json={"n": 1})
    client.post("/slack", json={"n": 2})
    newer = messages(client, 0)
    assert [(m["seq"], m["path"], m["body"]) for m in newer] == [(1, "/slack", {"n": 2})]
    assert messages(client, 1) == []


def test_messages_default_to_everything(client: httpx.Client) -> None:
    client.post("/oncall", json={"n": 1})
    response = client.get("/_sink/messages")
    assert [m["seq"] for m in response.json()["messages"]] == [0]


def test_query_string_is_not_part_of_the_path(client: httpx.Client) -> None:
    client.post("/oncall?source=alertmanager", json={"n": 1})
    assert messages(client, -1)[0]["path"] == "/oncall"


def test_non_json_body_is_kept_raw(client: httpx.Client) -> None:
    response = client.post("/oncall", content=b"not json {", headers={"Content-Type": "text/plain"})
    assert response.status_code == 200
    assert messages(client, -1)[0]["body"] == {"raw": "not json {"}


def test_empty_body_is_recorded_as_null(client: httpx.Client) -> None:
    assert client.post("/oncall").status_code == 200
    assert messages(client, -1)[0]["body"] is None


def test_healthz(client: httpx.Client) -> None:
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"ok": True}


def test_unknown_get_is_404(client: httpx.Client) -> None:
    response = client.get("/nope")
    assert response.status_code == 404
    assert response.json() == {"error": "not found"}


def test_empty_inbox(client: httpx.Client) -> None:
    assert messages(client, -1) == []


def test_inbox_directly() -> None:
    inbox = Inbox()
    a = inbox.add("/a", {"x": 1})
    b = inbox.add("/b", None)
    assert (a["seq"], b["seq"]) == (0, 1)
    assert inbox.after(-1) == [a, b]
    assert inbox.after(0) == [b]
    assert inbox.after(1) == []
