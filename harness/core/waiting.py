"""The one polling helper: await a condition with a deadline instead of sleeping a fixed time.

`watch` follows a condition until it holds or a wall-clock deadline passes, and says how far it
looked: running out of time is an observation ("it did not happen by then"), not an error.
`wait_for` is the precondition form: running out of time raises `WaitTimeout` with the last
observation. Every wait of the harness goes through one of the two.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TypeVar

T = TypeVar("T")


class WaitTimeout(TimeoutError):
    """A condition did not hold before its deadline; carries the last observation."""

    def __init__(self, what: str, timeout: float, last: object) -> None:
        super().__init__(f"timed out after {timeout:.1f} s waiting for {what}; last observation: {last!r}")
        self.what, self.timeout, self.last = what, timeout, last


def now_ms() -> int:
    """Wall-clock time in ms, the unit of the journal's and the event logs' timestamps."""
    return int(time.time() * 1000)


def watch(probe: Callable[[], T | None], until_ms: int, interval: float = 0.1) -> tuple[T | None, int]:
    """Call `probe` until it returns a truthy value or the wall clock passes `until_ms`.

    Returns (that value or None, wall ms of the last probe). The probe runs at least once;
    its exceptions propagate (a watched source that fails is the caller's to judge).
    """
    while True:
        observed = now_ms()
        value = probe()
        if value:
            return value, observed
        if observed >= until_ms:
            return None, observed
        time.sleep(interval)


def wait_for(probe: Callable[[], T | None], what: str, timeout: float, interval: float = 0.1) -> T:
    """Call `probe` until it returns a truthy value and return it; exceptions count as 'not yet'."""
    last: list[object] = [None]

    def guarded() -> T | None:
        try:
            value = probe()
        except Exception as exc:
            last[0] = exc
            return None
        last[0] = value
        return value

    value, _ = watch(guarded, now_ms() + int(timeout * 1000), interval)
    if value:
        return value
    raise WaitTimeout(what, timeout, last[0])
