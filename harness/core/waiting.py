"""Composable waits: await a condition with a deadline instead of sleeping a fixed time."""

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


def wait_for(probe: Callable[[], T | None], what: str, timeout: float, interval: float = 0.1) -> T:
    """Call `probe` until it returns a truthy value and return it; exceptions count as 'not yet'."""
    deadline = time.monotonic() + timeout
    last: object = None
    while True:
        try:
            value = probe()
            if value:
                return value
            last = value
        except Exception as exc:
            last = exc
        if time.monotonic() >= deadline:
            raise WaitTimeout(what, timeout, last)
        time.sleep(interval)
