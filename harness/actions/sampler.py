"""Sample every production component continuously, in the background, into the journal.

The "never mixed" claim is judged from this history: a sample every `period_s` (≤ 100 ms) of
every component's version, for the whole scenario. The reading function journals each sample
itself (the components driver writes `production.sample` entries); the sampler only paces it,
keeps going when a read fails (a component that does not answer is an observation), and
journals how long it sampled (`watch.end` with source `production.components`), so a checker
can tell "converged" from "stopped looking".
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from types import TracebackType
from typing import Any

from harness.core.journal import Journal
from harness.core.waiting import now_ms

SOURCE = "production.components"


class ComponentSampler:
    """Calls `read` every `period_s` on a daemon thread between `start` and `stop` (or as a context manager)."""

    def __init__(self, journal: Journal, read: Callable[[], Any], period_s: float = 0.1) -> None:
        if not 0 < period_s <= 0.1:
            raise ValueError(f"the sampling period must be in (0, 0.1] s to see short mixed windows, got {period_s}")
        self.journal, self.read, self.period_s = journal, read, period_s
        self.reads = 0
        self.failures = 0
        self.last: Any = None  # what the newest successful read returned
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopped_at: int | None = None

    def start(self) -> ComponentSampler:
        """Start sampling (journals `sampler.start`)."""
        self.journal.info("sampler.start", source=SOURCE, period_s=self.period_s)
        self._thread = threading.Thread(target=self._run, name="component-sampler", daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.is_set():
            started = now_ms()
            try:
                self.last = self.read()
                self.reads += 1
            except Exception as exc:  # a failed read must not end the history; it is journalled
                self.failures += 1
                self.journal.fail("sampler.read", source=SOURCE, error=f"{type(exc).__name__}: {exc}"[:300])
            elapsed = (now_ms() - started) / 1000
            self._stop.wait(max(0.0, self.period_s - elapsed))

    def stop(self) -> int:
        """Stop sampling (once); journal how far it sampled (watch.end); return that wall ms."""
        if self._stopped_at is not None:
            return self._stopped_at
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        until = now_ms()
        self.journal.info("watch.end", source=SOURCE, until_ms=until, reads=self.reads, failures=self.failures)
        self._stopped_at = until
        return until

    def __enter__(self) -> ComponentSampler:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()
