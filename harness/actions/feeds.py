"""Copy an external, sequence-numbered log (GitHub events, on-call messages) into the journal."""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from harness.core.journal import Journal
from harness.core.waiting import now_ms

Fetch = Callable[[int], list[dict[str, Any]]]


class JournalFeed:
    """Fetches items newer than a cursor and journals each once, as `op` with the item under `key`.

    Each feed has a stable id (journalled with its items) so two feeds of one source never mix.
    `mark_observed` journals how long the source was watched: a checker needs it to tell "it did
    not happen" from "the harness stopped looking".
    """

    def __init__(self, journal: Journal, fetch: Fetch, op: str, key: str) -> None:
        self.journal, self.fetch, self.op, self.key = journal, fetch, op, key
        self.feed_id = f"{op}-{uuid.uuid4().hex[:8]}"
        self.cursor = -1

    def catch_up(self) -> None:
        """Move the cursor past everything so far, without journaling it."""
        for item in self.fetch(self.cursor):
            self.cursor = max(self.cursor, int(item["seq"]))

    def poll(self) -> list[dict[str, Any]]:
        """Fetch items newer than the cursor, journal them and return them."""
        new = self.fetch(self.cursor)
        for item in new:
            self.journal.info(self.op, **{self.key: item}, feed=self.feed_id)
            self.cursor = max(self.cursor, int(item["seq"]))
        return new

    def items(self) -> list[dict[str, Any]]:
        """Every item this feed journalled."""
        return [e[self.key] for e in self.journal.entries(self.op) if e.get("feed") == self.feed_id]

    def mark_observed(self, until_ms: int | None = None) -> int:
        """Journal that the source was watched (polled) up to `until_ms` (default: now); return it."""
        until_ms = now_ms() if until_ms is None else until_ms
        self.journal.info("watch.end", source=self.op, until_ms=until_ms, feed=self.feed_id)
        return until_ms
