"""Finding and running the lint tools: the project's virtualenv first (pinned wheels), then PATH."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from harness.core.errors import HarnessError

TIMEOUT_S = 120.0


class ToolMissing(HarnessError):
    """A lint tool the pipeline lint needs is not installed."""


def venv_bin() -> Path:
    """The bin folder of the Python running the harness (the project's virtualenv)."""
    return Path(sys.executable).parent


def find_tool(name: str, purpose: str, fix: str) -> str:
    """Path of executable `name` (virtualenv bin, then PATH); ToolMissing in one line when neither has it."""
    local = venv_bin() / name
    if local.is_file() and os.access(local, os.X_OK):
        return str(local)
    found = shutil.which(name)
    if found:
        return found
    raise ToolMissing(f"{name} not found ({purpose}) in {venv_bin()} or on PATH. Fix: {fix}")


def run_tool(
    argv: list[str], cwd: Path, env: Mapping[str, str] | None = None, timeout_s: float = TIMEOUT_S
) -> subprocess.CompletedProcess[str]:
    """Run a lint tool to completion (no stdin), capturing its output; HarnessError if it hangs."""
    try:
        return subprocess.run(
            argv,
            cwd=cwd,
            env={**os.environ, **(env or {})},
            capture_output=True,
            text=True,
            timeout=timeout_s,
            stdin=subprocess.DEVNULL,
        )
    except subprocess.TimeoutExpired:
        raise HarnessError(
            f"{Path(argv[0]).name} did not finish in {timeout_s:.0f} s (in {cwd}). "
            f"Fix: run it by hand: {' '.join(argv)}"
        ) from None


def tool_failed(proc: subprocess.CompletedProcess[str], tool: str) -> HarnessError:
    """The error for a tool that failed without reporting findings (bad options, crash)."""
    detail = (proc.stderr or proc.stdout).strip().splitlines()
    last = detail[-1] if detail else "no output"
    return HarnessError(f"{tool} failed (exit {proc.returncode}): {last}. Fix: run it by hand: {' '.join(proc.args)}")
