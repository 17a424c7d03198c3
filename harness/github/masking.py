"""Secret masking: every secret value, and each line of multi-line secrets, longest first.

The one masking implementation of the project: the simulated runner masks job logs with it
(as GitHub does), and the harness redacts its journal, attachments and reports with it
(`harness.core.redact`). Stdlib only: it also runs inside the simulator's containers.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable

MASK = "***"
MIN_SECRET_LENGTH = 3


class Masker:
    """Replaces registered secret values with `replacement`; thread-safe, longest values first."""

    def __init__(self, values: Iterable[str] = (), *, replacement: str = MASK, min_length: int = MIN_SECRET_LENGTH):
        self._lock = threading.Lock()
        self._values: list[str] = []
        self.replacement = replacement
        self.min_length = min_length
        for value in values:
            self.add(value)

    def add(self, value: str | None) -> None:
        """Register a secret; multi-line values are also registered line by line."""
        if not value:
            return
        candidates = {value, value.strip()}
        for line in value.splitlines():
            candidates.add(line)
            candidates.add(line.strip())
        with self._lock:
            for candidate in candidates:
                if len(candidate) >= self.min_length and candidate not in self._values:
                    self._values.append(candidate)
            self._values.sort(key=len, reverse=True)

    def values(self) -> list[str]:
        """The registered fragments, longest first."""
        with self._lock:
            return list(self._values)

    def mask(self, text: str) -> str:
        """Return `text` with every registered value replaced by the replacement."""
        for value in self.values():
            if value in text:
                text = text.replace(value, self.replacement)
        return text

    def found(self, text: str) -> list[int]:
        """Indexes (into `values()`) of the fragments that occur in `text`."""
        return [i for i, value in enumerate(self.values()) if value in text]
