"""Secret masking for job logs: every secret value, and each line of multi-line secrets."""

from __future__ import annotations

import threading
from collections.abc import Iterable

MASK = "***"
MIN_SECRET_LENGTH = 3


class Masker:
    """Replaces registered secret values with `***`; thread-safe, longest values first."""

    def __init__(self, values: Iterable[str] = ()) -> None:
        self._lock = threading.Lock()
        self._values: list[str] = []
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
                if len(candidate) >= MIN_SECRET_LENGTH and candidate not in self._values:
                    self._values.append(candidate)
            self._values.sort(key=len, reverse=True)

    def mask(self, text: str) -> str:
        """Return `text` with every registered value replaced by `***`."""
        with self._lock:
            values = list(self._values)
        for value in values:
            if value in text:
                text = text.replace(value, MASK)
        return text
