"""Concurrency groups: one running + one pending, newer pending cancels older, cancel-in-progress."""

from __future__ import annotations

from harness.github.state import ConcurrencyGroups


def test_first_holder_runs_second_waits() -> None:
    groups = ConcurrencyGroups()
    assert groups.enter("g", "run:1", cancel_in_progress=False).started
    second = groups.enter("g", "run:2", cancel_in_progress=False)
    assert not second.started and second.cancel == ()


def test_newer_pending_cancels_older_pending() -> None:
    groups = ConcurrencyGroups()
    groups.enter("g", "run:1", False)
    groups.enter("g", "run:2", False)
    third = groups.enter("g", "run:3", False)
    assert not third.started and third.cancel == ("run:2",)
    assert groups.snapshot() == {"g": {"running": "run:1", "pending": "run:3"}}


def test_release_promotes_pending() -> None:
    groups = ConcurrencyGroups()
    groups.enter("g", "run:1", False)
    groups.enter("g", "run:2", False)
    assert groups.release("g", "run:1") == "run:2"
    assert groups.release("g", "run:2") is None
    assert groups.snapshot() == {}


def test_releasing_the_pending_one_keeps_the_running_one() -> None:
    groups = ConcurrencyGroups()
    groups.enter("g", "job:1", False)
    groups.enter("g", "job:2", False)
    assert groups.release("g", "job:2") is None
    assert groups.snapshot() == {"g": {"running": "job:1", "pending": None}}


def test_cancel_in_progress_cancels_running_and_pending() -> None:
    groups = ConcurrencyGroups()
    groups.enter("g", "run:1", False)
    groups.enter("g", "run:2", False)
    third = groups.enter("g", "run:3", cancel_in_progress=True)
    assert not third.started
    assert set(third.cancel) == {"run:1", "run:2"}
    assert groups.release("g", "run:1") == "run:3"


def test_groups_are_independent_and_keys_case_insensitive() -> None:
    groups = ConcurrencyGroups()
    assert ConcurrencyGroups.key("Acme/App", "Deploy") == ConcurrencyGroups.key("acme/app", "deploy")
    assert groups.enter("a", "run:1", False).started
    assert groups.enter("b", "run:2", False).started
