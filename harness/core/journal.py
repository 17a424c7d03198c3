"""The run journal: the single source of truth of what the harness did and saw.

JSON lines, schema-versioned (every entry carries `v`). Every operation is an ``invoke``
followed by ``ok``, ``fail`` or ``info`` (outcome unknown), with wall-clock and monotonic
timestamps; every observation (GitHub events, Prometheus answers, production samples, job
logs, fault windows) is an entry. Checkers compute verdicts from entries afterwards, so a run
can be re-judged from its file alone (`Journal.load`, `deploy-chaos recheck`).

Secrets never reach an entry: once `redact_with` is given the run's secrets, every string of
every entry is redacted before it is stored or written. Handlers registered with `subscribe`
see every entry as it is written; a failing handler is journalled, never raised, so reporting
can never break a run (or a fault's revert).
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

from harness.core.errors import ConfigError
from harness.core.redact import REDACTED, masker, redact_data

SCHEMA_VERSION = 2
READABLE_SCHEMAS = (2,)
ENTRY_TYPES = ("invoke", "ok", "fail", "info")
RESERVED = frozenset({"v", "seq", "type", "op", "ts_ms", "mono_ns"})

Handler = Callable[[dict[str, Any]], None]


class Journal:
    """Append-only journal of one harness run, optionally mirrored to a JSONL file."""

    def __init__(
        self,
        run_id: str,
        path: Path | None = None,
        seed: int = 0,
        profile: str = "",
        meta: dict[str, Any] | None = None,
    ) -> None:
        self.run_id = run_id
        self.path = path
        self._entries: list[dict[str, Any]] = []
        self._handlers: list[Handler] = []
        self._lock = threading.Lock()
        self._secrets: Callable[[], Iterable[str]] = list
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_text("")
        self.info("journal.start", schema=SCHEMA_VERSION, run_id=run_id, seed=seed, profile=profile, meta=meta or {})

    @classmethod
    def load(cls, path: Path) -> Journal:
        """Read a recorded run back (in memory only: writing to it never touches `path`)."""
        try:
            lines = path.read_text().splitlines()
        except OSError as exc:
            raise ConfigError(f"cannot read journal {path}: {exc.strerror}. Fix: give a journal-<run>.jsonl") from exc
        entries = []
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                entry = json.loads(line)
            except ValueError as exc:
                raise ConfigError(f"{path}:{number}: not a JSON journal entry ({exc.msg})") from exc
            if not isinstance(entry, dict) or "op" not in entry or "seq" not in entry:
                raise ConfigError(f"{path}:{number}: not a journal entry (no 'op' and 'seq')")
            entries.append(entry)
        if not entries or entries[0].get("op") != "journal.start":
            raise ConfigError(f"{path}: not a deploy-chaos journal (its first entry is not journal.start)")
        schema = entries[0].get("schema")
        if schema not in READABLE_SCHEMAS:
            raise ConfigError(
                f"{path}: journal schema {schema!r} cannot be read by this version (reads {list(READABLE_SCHEMAS)}); "
                "re-run the scenarios to record a current journal"
            )
        journal = cls.__new__(cls)
        journal.run_id = str(entries[0].get("run_id", ""))
        journal.path = None
        journal._entries = entries
        journal._handlers = []
        journal._lock = threading.Lock()
        journal._secrets = list
        return journal

    @property
    def header(self) -> dict[str, Any]:
        """The journal.start entry: schema, run id, seed, profile and run metadata."""
        return self._entries[0]

    def redact_with(self, secrets: Callable[[], Iterable[str]]) -> None:
        """Redact the values `secrets()` returns (each line of each) from every entry written from now on."""
        self._secrets = secrets

    def subscribe(self, handler: Handler) -> None:
        """Call `handler` with every entry written from now on (its exceptions are journalled, not raised)."""
        self._handlers.append(handler)

    def write(self, kind: str, op: str, **data: Any) -> dict[str, Any]:
        """Append one entry of `kind` (invoke/ok/fail/info) for operation `op`."""
        entry = self._append(kind, op, data)
        for handler in list(self._handlers):
            try:
                handler(entry)
            except Exception as exc:  # a reporting handler must never break the run
                self._append("fail", "journal.handler", {"handler": repr(handler)[:200], "error": repr(exc)[:500]})
        return entry

    def _append(self, kind: str, op: str, data: dict[str, Any]) -> dict[str, Any]:
        if kind not in ENTRY_TYPES:
            raise ValueError(f"journal entry type must be one of {ENTRY_TYPES}, got {kind!r}")
        clash = RESERVED & data.keys()
        if clash:
            raise ValueError(f"journal data may not set the entry's own fields {sorted(clash)}")
        # As plain JSON data, exactly as a reader of the file will see it, so that a verdict
        # computed live and one recomputed from the file see the same values.
        data = json.loads(json.dumps(data, default=str))
        secrets = list(self._secrets())
        if secrets:
            data = redact_data(data, masker(secrets, REDACTED))
        with self._lock:
            entry = {
                "v": SCHEMA_VERSION,
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
