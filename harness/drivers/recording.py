"""Journalling of what a driver observes: every answer is written to the run journal as data when it is seen."""

from __future__ import annotations

import copy
import threading
from collections.abc import Hashable
from typing import Any

import httpx

from harness.core.journal import Journal

_NOTHING = object()


def describe_error(exc: BaseException) -> str:
    """`ExceptionClass: message`, the form observations record when a service did not answer."""
    message = str(exc)
    return f"{type(exc).__name__}: {message}" if message else type(exc).__name__


class Recorder:
    """Writes one client's observations to a journal (or nowhere when the journal is None).

    It also remembers, per client instance, what was last journalled under a key, so polled
    answers that did not change are not written again. `lock` guards that memory and is held
    while the corresponding entry is written, so the journal's order matches the memory's.
    """

    def __init__(self, journal: Journal | None) -> None:
        self.journal = journal
        self.lock = threading.Lock()
        self._last: dict[Hashable, Any] = {}

    @property
    def enabled(self) -> bool:
        """True when observations go to a journal."""
        return self.journal is not None

    def record(self, op: str, **fields: Any) -> None:
        """Journal an `info` entry for `op` with a private copy of `fields` (callers may mutate theirs)."""
        if self.journal is not None:
            self.journal.info(op, **copy.deepcopy(fields))

    def record_if_changed(self, key: Hashable, value: Any, op: str, **fields: Any) -> bool:
        """Journal `op` only when `value` differs from the last value journalled under `key`; True if written."""
        if self.journal is None:
            return False
        with self.lock:
            if self._last.get(key, _NOTHING) == value:
                return False
            self._last[key] = copy.deepcopy(value)
            self.journal.info(op, **copy.deepcopy(fields))
            return True


class HttpDriver:
    """Base of the HTTP drivers: one connection pool to `base_url`, a pluggable transport, a recorder."""

    def __init__(
        self,
        base_url: str,
        timeout: float,
        journal: Journal | None,
        transport: httpx.BaseTransport | None,
        headers: dict[str, str] | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self._http = httpx.Client(base_url=self.base_url, timeout=timeout, headers=headers, transport=transport)
        self._recorder = Recorder(journal)

    @property
    def journal(self) -> Journal | None:
        """The journal observations are written to, if any."""
        return self._recorder.journal

    def close(self) -> None:
        """Close the HTTP connection pool."""
        self._http.close()
