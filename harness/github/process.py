"""Run a step's process: stdin closed, own process group, line streaming, timeout and kill."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class ProcessResult:
    """How a process ended: exit code (None if killed before exiting), timeout, or stop reason."""

    exit_code: int | None
    timed_out: bool = False
    stopped: str | None = None  # e.g. "cancelled" / "lost"
    error: str | None = None  # could not start

    @property
    def ok(self) -> bool:
        return self.exit_code == 0 and not self.timed_out and not self.stopped and not self.error


def kill_group(proc: subprocess.Popen[bytes], grace_s: float) -> None:
    """SIGTERM the process group, then SIGKILL it after `grace_s` if still alive."""
    for sig in (signal.SIGTERM, signal.SIGKILL):
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, sig)
        if sig == signal.SIGKILL:
            break
        try:
            proc.wait(timeout=grace_s)
        except subprocess.TimeoutExpired:
            continue
        # the leader exited; still SIGKILL stragglers of the group
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(proc.pid, signal.SIGKILL)
        break


def _pump(stream: object, on_line: Callable[[str], None]) -> None:
    for raw in iter(stream.readline, b""):  # type: ignore[attr-defined]
        on_line(raw.decode("utf-8", errors="replace").rstrip("\r\n"))


def run_process(
    argv: Sequence[str],
    *,
    cwd: str,
    env: Mapping[str, str],
    on_line: Callable[[str], None],
    timeout_s: float | None = None,
    should_stop: Callable[[], str | None] = lambda: None,
    kill_grace_s: float = 2.5,
    poll_s: float = 0.05,
) -> ProcessResult:
    """Run `argv` with stdin closed (DEVNULL) and stdout+stderr merged, streamed line by line.

    The process gets its own session/process group; on timeout or when `should_stop()`
    returns a reason, the whole group is terminated.
    """
    try:
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    except OSError as exc:
        return ProcessResult(None, error=f"{type(exc).__name__}: {exc}")
    reader = threading.Thread(target=_pump, args=(proc.stdout, on_line), daemon=True)
    reader.start()
    deadline = None if timeout_s is None else time.monotonic() + timeout_s
    timed_out = False
    stopped: str | None = None
    while proc.poll() is None:
        if deadline is not None and time.monotonic() >= deadline:
            timed_out = True
        else:
            stopped = should_stop()
        if timed_out or stopped:
            kill_group(proc, kill_grace_s)
            break
        with contextlib.suppress(subprocess.TimeoutExpired):
            proc.wait(timeout=poll_s)
    code = proc.wait()
    reader.join(timeout=1.0)
    if reader.is_alive():
        # background children still hold the pipe: clean up the group like the runner does
        kill_group(proc, 0.2)
        reader.join(timeout=2.0)
    if proc.stdout is not None:
        proc.stdout.close()
    return ProcessResult(None if (timed_out or stopped) else code, timed_out, stopped)
