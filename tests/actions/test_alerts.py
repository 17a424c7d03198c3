"""harness.actions.alerts: the on-call feed copies sink messages into the journal once, and awaits notifications."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from harness.actions.alerts import OnCallFeed, await_notification
from harness.core.claims import AlertClaim
from harness.core.journal import Journal

PRIMARY = AlertClaim("RunnerOffline", (("runner", "primary"),), 300, "critical")


class FakeSink:
    """The sink's client: messages with seq > after, from a list."""

    def __init__(self) -> None:
        self.received: list[dict[str, Any]] = []
        self.calls: list[int] = []

    def push(self, body: Any, received_ms: int | None = None, path: str = "/oncall") -> dict[str, Any]:
        message = {
            "seq": len(self.received),
            "path": path,
            "body": body,
            "received_ms": int(time.time() * 1000) if received_ms is None else received_ms,
        }
        self.received.append(message)
        return message

    def messages(self, after: int = -1) -> list[dict[str, Any]]:
        self.calls.append(after)
        return [m for m in self.received if m["seq"] > after]


@dataclass
class FakeEnv:
    sink: FakeSink = field(default_factory=FakeSink)
    journal: Journal = field(default_factory=lambda: Journal("t"))


def page(status: str = "firing", runner: str = "primary") -> dict[str, Any]:
    return {
        "status": status,
        "receiver": "oncall",
        "groupLabels": {"alertname": "RunnerOffline"},
        "alerts": [
            {
                "status": status,
                "labels": {"alertname": "RunnerOffline", "runner": runner, "severity": "critical"},
                "annotations": {"runbook": "runbooks/runner-offline-restore.md"},
                "startsAt": "2023-11-14T22:13:20Z",
                "endsAt": "0001-01-01T00:00:00Z",
            }
        ],
    }


def journalled(env: FakeEnv) -> list[dict[str, Any]]:
    return env.journal.entries("oncall.message")


# ---- OnCallFeed -------------------------------------------------------------------------------------------------
def test_catch_up_skips_history_without_journaling() -> None:
    env = FakeEnv()
    env.sink.push({"old": 1})
    env.sink.push({"old": 2})
    feed = OnCallFeed(env)  # type: ignore[arg-type]
    feed.catch_up()
    assert feed.cursor == 1
    assert journalled(env) == []
    assert feed.poll() == []
    new = env.sink.push({"new": 3})
    assert feed.poll() == [new]
    assert feed.messages() == [new]


def test_catch_up_on_an_empty_sink_keeps_the_cursor() -> None:
    env = FakeEnv()
    feed = OnCallFeed(env)  # type: ignore[arg-type]
    feed.catch_up()
    assert feed.cursor == -1
    first = env.sink.push({"n": 0})
    assert feed.poll() == [first]


def test_poll_journals_each_new_message_once() -> None:
    env = FakeEnv()
    feed = OnCallFeed(env)  # type: ignore[arg-type]
    a, b = env.sink.push({"n": 0}), env.sink.push({"n": 1})
    assert feed.poll() == [a, b]
    assert feed.poll() == []
    c = env.sink.push({"n": 2})
    assert feed.poll() == [c]
    assert feed.poll() == []
    entries = journalled(env)
    assert [e["message"] for e in entries] == [a, b, c]
    assert all(e["type"] == "info" and e["feed"] == feed.feed_id for e in entries)
    assert env.sink.calls == [-1, 1, 1, 2]


def test_messages_returns_this_feeds_messages_in_order() -> None:
    env = FakeEnv()
    feed = OnCallFeed(env)  # type: ignore[arg-type]
    a = env.sink.push(page())
    feed.poll()
    b = env.sink.push(page("resolved"))
    feed.poll()
    assert feed.messages() == [a, b]


def test_two_feeds_on_one_journal_do_not_see_each_other() -> None:
    journal = Journal("t")
    env1, env2 = FakeEnv(journal=journal), FakeEnv(journal=journal)
    feed1, feed2 = OnCallFeed(env1), OnCallFeed(env2)  # type: ignore[arg-type]
    one = env1.sink.push({"sink": 1})
    two = env2.sink.push({"sink": 2})
    feed1.poll()
    feed2.poll()
    assert feed1.messages() == [one]
    assert feed2.messages() == [two]
    assert len(journal.entries("oncall.message")) == 2


def test_two_feeds_on_one_sink_each_journal_their_copy() -> None:
    env = FakeEnv()
    feed1, feed2 = OnCallFeed(env), OnCallFeed(env)  # type: ignore[arg-type]
    m = env.sink.push({"n": 0})
    feed1.poll()
    assert feed1.messages() == [m]
    assert feed2.messages() == []
    feed2.poll()
    assert feed2.messages() == [m]
    assert feed1.messages() == [m]


# ---- await_notification -----------------------------------------------------------------------------------------
def test_await_returns_at_once_when_a_matching_page_already_arrived() -> None:
    env = FakeEnv()
    feed = OnCallFeed(env)  # type: ignore[arg-type]
    start = int(time.time() * 1000)
    env.sink.push(page(), received_ms=start)
    t0 = time.monotonic()
    observed = await_notification(feed, PRIMARY, "firing", after_ms=start - 1000, until_ms=start + 60_000)
    assert time.monotonic() - t0 < 1.0
    assert start <= observed < start + 60_000
    assert len(feed.messages()) == 1


def test_await_returns_when_a_page_arrives_while_waiting() -> None:
    env = FakeEnv()
    feed = OnCallFeed(env)  # type: ignore[arg-type]
    start = int(time.time() * 1000)
    original = env.sink.messages

    def delivering(after: int = -1) -> list[dict[str, Any]]:
        if len(env.sink.calls) == 2:  # the third poll finds the page
            env.sink.push(page())
        return original(after)

    env.sink.messages = delivering  # type: ignore[method-assign]
    t0 = time.monotonic()
    observed = await_notification(feed, PRIMARY, "firing", after_ms=start, until_ms=start + 30_000)
    assert time.monotonic() - t0 < 5.0
    assert observed < start + 30_000
    assert len(env.sink.calls) == 3
    assert [m["body"]["status"] for m in feed.messages()] == ["firing"]


def test_await_returns_at_until_when_nothing_matches() -> None:
    env = FakeEnv()
    feed = OnCallFeed(env)  # type: ignore[arg-type]
    now = int(time.time() * 1000)
    env.sink.push(page("resolved"), received_ms=now)
    env.sink.push(page(runner="secondary"), received_ms=now)
    env.sink.push(page(), received_ms=now - 10_000)  # before after_ms
    until = now + 400
    observed = await_notification(feed, PRIMARY, "firing", after_ms=now - 1000, until_ms=until)
    assert observed >= until
    assert observed - until < 1000
    assert len(feed.messages()) == 3
    assert len(env.sink.calls) >= 2


def test_await_with_until_in_the_past_polls_once_and_returns() -> None:
    env = FakeEnv()
    feed = OnCallFeed(env)  # type: ignore[arg-type]
    now = int(time.time() * 1000)
    observed = await_notification(feed, PRIMARY, "firing", after_ms=now, until_ms=now - 5000)
    assert observed >= now
    assert env.sink.calls == [-1]


def test_await_resolved_matches_only_resolved() -> None:
    env = FakeEnv()
    feed = OnCallFeed(env)  # type: ignore[arg-type]
    now = int(time.time() * 1000)
    env.sink.push(page("firing"), received_ms=now)
    t0 = time.monotonic()
    await_notification(feed, PRIMARY, "resolved", after_ms=now - 1, until_ms=now + 300)
    assert time.monotonic() - t0 >= 0.2  # the firing page did not end the wait
    env.sink.push(page("resolved"), received_ms=now + 1)
    t0 = time.monotonic()
    await_notification(feed, PRIMARY, "resolved", after_ms=now - 1, until_ms=now + 60_000)
    assert time.monotonic() - t0 < 1.0
