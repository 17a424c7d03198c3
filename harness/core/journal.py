"""The run journal: the single source of truth of what the harness did and saw.

JSON lines, schema-versioned. Every operation is an ``invoke`` followed by ``ok``,
``fail`` or ``info`` (outcome unknown), with wall-clock and monotonic timestamps.
Handlers registered with `Journal.subscribe` see every entry as it is written, so
reporting stays decoupled from execution.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
ENTRY_TYPES = ("invoke", "ok", "fail", "info")
RESERVED = frozenset({"seq", "type", "op", "ts_ms", "mono_ns"})

Handler = Callable[[dict[str, Any]], None]


class Journal:
    """Append-only journal of one harness run, optionally mirrored to a JSONL file."""

    def __init__(self, run_id: str, path: Path | None = None, seed: int = 0, profile: str = "") -> None:
        self.run_id = run_id
        self.path = path
        self._entries: list[dict[str, Any]] = []
        self._handlers: list[Handler] = []
        self._lock = threading.Lock()
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("")
        self.info("journal.start", schema=SCHEMA_VERSION, run_id=run_id, seed=seed, profile=profile)

    def subscribe(self, handler: Handler) -> None:
        """Call `handler` with every entry written from now on."""
        self._handlers.append(handler)

    def write(self, kind: str, op: str, **data: Any) -> dict[str, Any]:
        """Append one entry of `kind` (invoke/ok/fail/info) for operation `op`."""
        if kind not in ENTRY_TYPES:
            raise ValueError(f"journal entry type must be one of {ENTRY_TYPES}, got {kind!r}")
        with self._lock:
            clash = RESERVED & data.keys()
            if clash:
                raise ValueError(f"journal data may not set the entry's own fields {sorted(clash)}")
            entry = {
                "seq": len(self._entries),
                "type": kind,
                "op": op,
                "ts_ms": int(time.time() * 1000),
                "mono_ns": time.monotonic_ns(),
                **data,
            }
            self._entries.append(entry)
            if self.path is not None:
                with self.path.open("a") as fh:
                    fh.write(json.dumps(entry, default=str) + "\n")
        for handler in self._handlers:
            handler(entry)
        return entry

    def invoke(self, op: str, **data: Any) -> dict[str, Any]:
        """Record that operation `op` starts."""
        return self.write("invoke", op, **data)

    def ok(self, op: str, **data: Any) -> dict[str, Any]:
        """Record that operation `op` succeeded."""
        return self.write("ok", op, **data)

    def fail(self, op: str, **data: Any) -> dict[str, Any]:
        """Record that operation `op` failed."""
        return self.write("fail", op, **data)

    def info(self, op: str, **data: Any) -> dict[str, Any]:
        """Record an observation (or an operation whose outcome is unknown)."""
        return self.write("info", op, **data)

    def entries(self, op: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        """Entries so far, optionally only those of operation `op` and/or type `kind`."""
        with self._lock:
            return [e for e in self._entries if (op is None or e["op"] == op) and (kind is None or e["type"] == kind)]

    def last(self, op: str, kind: str | None = None) -> dict[str, Any] | None:
        """The newest entry of operation `op` (and type `kind`), if any."""
        found = self.entries(op, kind)
        return found[-1] if found else None
