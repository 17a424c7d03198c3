"""Actions run as shims on the runner: actions/checkout, actions/setup-python, nick-fields/retry."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.github.client import HttpError, TransportError
from harness.github.process import ProcessResult
from harness.github.shimspecs import shim_for
from harness.github.tarballs import safe_extract


@dataclass
class ShimContext:
    """What a shim may use: evaluated `with:` inputs, the workspace, logging, script running."""

    uses: str
    inputs: Mapping[str, str]
    workspace: str
    env: Mapping[str, str]
    github: Mapping[str, Any]
    timeout_s: float | None
    log: Callable[[str], None]
    run_script: Callable[[str, str, float | None], ProcessResult]
    set_output: Callable[[str, str], None]
    download: Callable[[str], bytes]
    cancelled: Callable[[], bool]

    def flag(self, name: str, default: bool) -> bool:
        raw = self.inputs.get(name)
        return default if raw in (None, "") else str(raw).strip().lower() == "true"


def run_shim(ctx: ShimContext) -> str:
    """Run the shim for `ctx.uses`; returns the step outcome (success/failure/cancelled)."""
    spec = shim_for(ctx.uses)
    if spec is None:
        ctx.log(f"##[error]Action {ctx.uses!r} is not supported by the simulated runner")
        return "failure"
    for key in sorted(set(ctx.inputs) & spec.no_op_inputs):
        ctx.log(f"Input '{key}' has no effect in the simulated {spec.action}")
    handler = _HANDLERS[spec.action]
    return handler(ctx)


# ------------------------------------------------------------ actions/checkout


def _checkout(ctx: ShimContext) -> str:
    repository = ctx.inputs.get("repository") or str(ctx.github.get("repository", ""))
    ref = ctx.inputs.get("ref") or str(ctx.github.get("sha") or ctx.github.get("ref") or "main")
    target = os.path.join(ctx.workspace, ctx.inputs.get("path") or "")
    url = f"{str(ctx.github.get('server_url', '')).rstrip('/')}/repos/{repository}/tarball/{ref}"
    ctx.log(f"Downloading {repository}@{ref} from {url}")
    try:
        data = ctx.download(url)
    except (HttpError, TransportError) as exc:
        ctx.log(f"##[error]Checkout failed: {exc}")
        return "failure"
    if ctx.flag("clean", True) and os.path.isdir(target):
        for entry in os.listdir(target):
            path = os.path.join(target, entry)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path)
            else:
                os.remove(path)
    try:
        count = safe_extract(data, target, strip_components=1)
    except ValueError as exc:
        ctx.log(f"##[error]Checkout failed: {exc}")
        return "failure"
    ctx.log(f"Checked out {count} files into {target}")
    return "success"


# ------------------------------------------------------------ actions/setup-python


def _setup_python(ctx: ShimContext) -> str:
    wanted = (ctx.inputs.get("python-version") or "").strip()
    python = shutil.which("python3", path=ctx.env.get("PATH")) or sys.executable
    try:
        out = subprocess.run(
            [python, "-c", "import platform; print(platform.python_version())"],
            capture_output=True,
            text=True,
            timeout=30,
            stdin=subprocess.DEVNULL,
            check=True,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        ctx.log(f"##[error]No usable python3 on the runner: {exc}")
        return "failure"
    have = out.stdout.strip()
    if wanted and not version_matches(wanted, have):
        ctx.log(
            f"##[error]python-version {wanted!r} requested but the runner has Python {have}; "
            "the simulated setup-python does not download interpreters"
        )
        return "failure"
    ctx.log(f"Using Python {have} at {python}")
    ctx.set_output("python-version", have)
    ctx.set_output("python-path", python)
    return "success"


def version_matches(wanted: str, have: str) -> bool:
    have_parts = have.split(".")
    for part_index, part in enumerate(wanted.split(".")):
        if part in ("x", "*"):
            return True
        if part_index >= len(have_parts) or have_parts[part_index] != part:
            return False
    return True


# ------------------------------------------------------------ nick-fields/retry


def _seconds(ctx: ShimContext, name: str, default: float | None) -> float | None:
    raw = ctx.inputs.get(name)
    if raw in (None, ""):
        return default
    return float(raw)


def _sleep(ctx: ShimContext, seconds: float) -> bool:
    """Sleep unless cancelled; False when cancelled."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if ctx.cancelled():
            return False
        time.sleep(min(0.05, max(0.0, deadline - time.monotonic())))
    return True


def _retry(ctx: ShimContext) -> str:
    try:
        max_attempts = int(ctx.inputs["max_attempts"])
        minutes = _seconds(ctx, "timeout_minutes", None)
        timeout = _seconds(ctx, "timeout_seconds", None if minutes is None else minutes * 60)
        wait = _seconds(ctx, "retry_wait_seconds", 10.0) or 0.0
    except (KeyError, ValueError) as exc:
        ctx.log(f"##[error]nick-fields/retry: invalid input: {exc}")
        return "failure"
    if timeout is None:
        ctx.log("##[error]nick-fields/retry: one of timeout_minutes or timeout_seconds is required")
        return "failure"
    retry_on = (ctx.inputs.get("retry_on") or "any").lower()
    shell = ctx.inputs.get("shell") or "bash"
    if retry_on not in ("any", "error", "timeout") or shell not in ("bash", "sh"):
        ctx.log("##[error]nick-fields/retry: retry_on must be any|error|timeout and shell bash|sh")
        return "failure"
    if ctx.timeout_s is not None:
        timeout = min(timeout, ctx.timeout_s)
    codes = {int(c) for c in re.findall(r"-?\d+", ctx.inputs.get("retry_on_exit_code") or "")}
    outcome = _retry_loop(ctx, max_attempts, timeout, wait, retry_on, shell, codes)
    if outcome == "failure" and ctx.flag("continue_on_error", False):
        ctx.log("continue_on_error is set: the step succeeds despite the failed attempts")
        return "success"
    return outcome


def _retry_loop(
    ctx: ShimContext, max_attempts: int, timeout: float, wait: float, retry_on: str, shell: str, codes: set[int]
) -> str:
    command = ctx.inputs["command"]
    for attempt in range(1, max_attempts + 1):
        if attempt > 1 and ctx.inputs.get("new_command_on_retry"):
            command = ctx.inputs["new_command_on_retry"]
        result = ctx.run_script(command, shell, timeout)
        ctx.set_output("total_attempts", str(attempt))
        if result.stopped:
            ctx.log("##[error]The operation was canceled.")
            return "cancelled"
        if result.ok:
            ctx.set_output("exit_code", "0")
            ctx.log(f"Command completed after {attempt} attempt(s).")
            return "success"
        if result.timed_out:
            reason, kind = f"Timeout of {timeout:g} seconds hit", "timeout"
        else:
            reason, kind = f"Child_process exited with error code {result.exit_code}", "error"
            ctx.set_output("exit_code", str(result.exit_code))
            ctx.set_output("exit_error", reason)
        ctx.log(f"##[warning]Attempt {attempt} failed. Reason: {reason}")
        if attempt == max_attempts:
            break
        if (retry_on == "error" and kind == "timeout") or (retry_on == "timeout" and kind == "error"):
            ctx.log(f"##[error]Not retrying: retry_on is {retry_on!r} and the attempt ended with {kind}")
            return "failure"
        if codes and kind == "error" and result.exit_code not in codes:
            ctx.log(f"##[error]Not retrying: exit code {result.exit_code} not in retry_on_exit_code")
            return "failure"
        if ctx.inputs.get("on_retry_command"):
            ctx.run_script(ctx.inputs["on_retry_command"], shell, timeout)
        if not _sleep(ctx, wait):
            return "cancelled"
    ctx.log(f"##[error]Final attempt failed after {max_attempts} attempt(s).")
    return "failure"


_HANDLERS: dict[str, Callable[[ShimContext], str]] = {
    "actions/checkout": _checkout,
    "actions/setup-python": _setup_python,
    "nick-fields/retry": _retry,
}
