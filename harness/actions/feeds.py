"""Copy an external, sequence-numbered log (GitHub events, on-call messages) into the journal."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from harness.core.journal import Journal

Fetch = Callable[[int], list[dict[str, Any]]]


class JournalFeed:
    """Fetches items newer than a cursor and journals each once, as `op` with the item under `key`."""

    def __init__(self, journal: Journal, fetch: Fetch, op: str, key: str) -> None:
        self.journal, self.fetch, self.op, self.key = journal, fetch, op, key
        self.cursor = -1

    def catch_up(self) -> None:
        """Move the cursor past everything so far, without journaling it."""
        for item in self.fetch(self.cursor):
            self.cursor = max(self.cursor, int(item["seq"]))

    def poll(self) -> list[dict[str, Any]]:
        """Fetch items newer than the cursor, journal them and return them."""
        new = self.fetch(self.cursor)
        for item in new:
            self.journal.info(self.op, **{self.key: item}, feed=id(self))
            self.cursor = max(self.cursor, int(item["seq"]))
        return new

    def items(self) -> list[dict[str, Any]]:
        """Every item this feed journalled."""
        return [e[self.key] for e in self.journal.entries(self.op) if e.get("feed") == id(self)]
