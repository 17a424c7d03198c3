"""Timed, printed steps: setup says what it did and how long each step took."""

from __future__ import annotations

import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import TextIO


@dataclass
class StepRecord:
    """One finished step: its name, what it did, its duration and outcome."""

    name: str
    detail: str = ""
    seconds: float = 0.0
    ok: bool = True


@dataclass
class Progress:
    """Collects and prints timed steps."""

    stream: TextIO = field(default_factory=lambda: sys.stderr)
    records: list[StepRecord] = field(default_factory=list)

    @contextmanager
    def step(self, name: str) -> Iterator[StepRecord]:
        """Time a step; the body may set ``record.detail`` to say what it did."""
        record = StepRecord(name)
        start = time.monotonic()
        try:
            yield record
        except BaseException:
            record.ok = False
            raise
        finally:
            record.seconds = time.monotonic() - start
            self.records.append(record)
            mark = "ok  " if record.ok else "FAIL"
            detail = f": {record.detail}" if record.detail else ""
            print(f"[{mark}] {name}{detail} ({record.seconds:.1f} s)", file=self.stream, flush=True)

    def info(self, message: str) -> None:
        """Print an informational line."""
        print(f"       {message}", file=self.stream, flush=True)
