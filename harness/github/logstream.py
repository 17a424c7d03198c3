"""Batch job log lines to the server from a background thread."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

from harness.github.client import HttpError, TransportError


class LogStreamer:
    """Buffers lines and posts them every `interval_s` (or sooner when `max_batch` is reached)."""

    def __init__(
        self,
        send: Callable[[list[dict[str, Any]]], Any],
        on_reply: Callable[[Any], None],
        on_gone: Callable[[], None],
        interval_s: float = 0.2,
        max_batch: int = 200,
        max_buffer: int = 50000,
    ) -> None:
        self._send = send
        self._on_reply = on_reply
        self._on_gone = on_gone
        self._interval_s = interval_s
        self._max_batch = max_batch
        self._max_buffer = max_buffer
        self._buffer: list[dict[str, Any]] = []
        self._cond = threading.Condition()
        self._closed = False
        self._gone = False
        self._thread = threading.Thread(target=self._loop, name="log-stream", daemon=True)

    def start(self) -> LogStreamer:
        self._thread.start()
        return self

    def add(self, text: str) -> None:
        with self._cond:
            self._buffer.append({"ts": time.time(), "text": text})
            if len(self._buffer) > self._max_buffer:
                del self._buffer[: len(self._buffer) - self._max_buffer]
            if len(self._buffer) >= self._max_batch:
                self._cond.notify()

    def _take(self) -> list[dict[str, Any]]:
        with self._cond:
            batch = self._buffer[: self._max_batch]
            del self._buffer[: len(batch)]
            return batch

    def _put_back(self, batch: list[dict[str, Any]]) -> None:
        with self._cond:
            self._buffer[:0] = batch

    def _flush_once(self) -> bool:
        """Send one batch; False when sending failed (retry later)."""
        batch = self._take()
        if not batch or self._gone:
            return True
        try:
            self._on_reply(self._send(batch))
        except HttpError as exc:
            if exc.status in (404, 410):
                self._gone = True
                self._on_gone()
            return True  # other HTTP errors: drop the batch rather than loop on it
        except TransportError:
            self._put_back(batch)
            return False
        return True

    def _loop(self) -> None:
        while True:
            with self._cond:
                if not self._closed:
                    self._cond.wait(self._interval_s)
                closed = self._closed
            while self._buffer and self._flush_once():
                pass
            if closed:
                return

    def close(self, timeout_s: float = 10.0) -> None:
        """Flush what is buffered (retrying for up to `timeout_s`) and stop the thread."""
        deadline = time.monotonic() + timeout_s
        with self._cond:
            self._closed = True
            self._cond.notify()
        self._thread.join(timeout=max(0.0, deadline - time.monotonic()))
        while self._buffer and not self._gone and time.monotonic() < deadline:
            if not self._flush_once():
                time.sleep(0.2)
