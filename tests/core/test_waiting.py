"""harness.core.waiting: wait_for polls until truthy, treats exceptions as 'not yet', times out with evidence."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import pytest

from harness.core.waiting import WaitTimeout, wait_for


def sequence(values: Iterable[object]) -> tuple[Callable[[], object], list[int]]:
    """A probe returning (or raising) each value in turn; the list counts the calls."""
    items = list(values)
    calls: list[int] = []

    def probe() -> object:
        calls.append(1)
        value = items[min(len(calls), len(items)) - 1]
        if isinstance(value, BaseException):
            raise value
        return value

    return probe, calls


def test_returns_first_truthy_value() -> None:
    probe, calls = sequence([None, 0, "", [], "ready", "later"])
    assert wait_for(probe, "ready", timeout=5, interval=0) == "ready"
    assert len(calls) == 5


def test_returns_immediately_when_already_true() -> None:
    probe, calls = sequence([{"status": "up"}])
    assert wait_for(probe, "up", timeout=5, interval=10) == {"status": "up"}
    assert len(calls) == 1


def test_exceptions_count_as_not_yet() -> None:
    probe, calls = sequence([ConnectionError("refused"), ValueError("bad json"), 42])
    assert wait_for(probe, "answer", timeout=5, interval=0) == 42
    assert len(calls) == 3


def test_timeout_carries_the_last_falsy_observation() -> None:
    probe, calls = sequence([None, [], 0])
    start = time.monotonic()
    with pytest.raises(WaitTimeout) as err:
        wait_for(probe, "the runner to be online", timeout=0.2, interval=0.01)
    assert time.monotonic() - start >= 0.2
    assert err.value.last == 0
    assert err.value.what == "the runner to be online"
    assert err.value.timeout == 0.2
    assert "the runner to be online" in str(err.value)
    assert "last observation: 0" in str(err.value)
    assert len(calls) >= 3
    assert isinstance(err.value, TimeoutError)


def test_timeout_carries_the_last_exception() -> None:
    probe, _ = sequence([None, RuntimeError("still booting")])
    with pytest.raises(WaitTimeout) as err:
        wait_for(probe, "boot", timeout=0.1, interval=0.01)
    assert isinstance(err.value.last, RuntimeError)
    assert "still booting" in str(err.value)


def test_zero_timeout_probes_once() -> None:
    probe, calls = sequence([False])
    with pytest.raises(WaitTimeout) as err:
        wait_for(probe, "x", timeout=0, interval=0)
    assert len(calls) == 1
    assert err.value.last is False


def test_keyboard_interrupt_is_not_swallowed() -> None:
    probe, calls = sequence([KeyboardInterrupt()])
    with pytest.raises(KeyboardInterrupt):
        wait_for(probe, "x", timeout=5, interval=0)
    assert len(calls) == 1
