"""Action shims: nick-fields/retry semantics, setup-python version checks, unknown actions."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

from harness.github.process import ProcessResult
from harness.github.shims import ShimContext, run_shim, version_matches

OK = ProcessResult(0)
ERROR = ProcessResult(2)
TIMEOUT = ProcessResult(None, timed_out=True)


def shim(
    uses: str, inputs: dict[str, str], results: list[ProcessResult] | None = None
) -> tuple[ShimContext, dict[str, Any]]:
    record: dict[str, Any] = {"scripts": [], "log": [], "outputs": {}}
    queue: Iterator[ProcessResult] = iter(results or [])

    def run_script(script: str, shell: str, timeout: float | None) -> ProcessResult:
        record["scripts"].append((script, shell, timeout))
        return next(queue)

    ctx = ShimContext(
        uses=uses,
        inputs=inputs,
        workspace="/nonexistent",
        env={"PATH": "/usr/bin:/bin"},
        github={},
        timeout_s=None,
        log=record["log"].append,
        run_script=run_script,
        set_output=record["outputs"].__setitem__,
        download=lambda url: b"",
        cancelled=lambda: False,
    )
    return ctx, record


RETRY = {"max_attempts": "3", "timeout_seconds": "5", "retry_wait_seconds": "0", "command": "./deploy.sh"}


def test_retry_retries_errors_until_success() -> None:
    ctx, record = shim("nick-fields/retry@v3", RETRY, [ERROR, ERROR, OK])
    assert run_shim(ctx) == "success"
    assert [s[0] for s in record["scripts"]] == ["./deploy.sh"] * 3
    assert record["scripts"][0][2] == 5.0
    assert record["outputs"]["total_attempts"] == "3"


def test_retry_gives_up_after_max_attempts() -> None:
    ctx, record = shim("nick-fields/retry@v3", RETRY, [ERROR, TIMEOUT, ERROR])
    assert run_shim(ctx) == "failure"
    assert any("Final attempt failed" in line for line in record["log"])


def test_retry_on_error_does_not_retry_a_timed_out_attempt() -> None:
    ctx, record = shim("nick-fields/retry@v3", {**RETRY, "retry_on": "error"}, [TIMEOUT, OK])
    assert run_shim(ctx) == "failure"
    assert len(record["scripts"]) == 1
    assert any("Not retrying" in line for line in record["log"])


def test_retry_on_timeout_does_not_retry_errors() -> None:
    ctx, record = shim("nick-fields/retry@v3", {**RETRY, "retry_on": "timeout"}, [ERROR, OK])
    assert run_shim(ctx) == "failure" and len(record["scripts"]) == 1


def test_retry_new_command_and_continue_on_error() -> None:
    inputs = {**RETRY, "max_attempts": "2", "new_command_on_retry": "./fallback.sh", "continue_on_error": "true"}
    ctx, record = shim("nick-fields/retry@v3", inputs, [ERROR, ERROR])
    assert run_shim(ctx) == "success"
    assert [s[0] for s in record["scripts"]] == ["./deploy.sh", "./fallback.sh"]


def test_retry_requires_a_timeout() -> None:
    ctx, _ = shim("nick-fields/retry@v3", {"max_attempts": "2", "command": "x"})
    assert run_shim(ctx) == "failure"


def test_setup_python_version_matching() -> None:
    assert version_matches("3.11", "3.11.2")
    assert version_matches("3.x", "3.12.0")
    assert not version_matches("3.12", "3.11.2")
    ctx, record = shim("actions/setup-python@v5", {"python-version": "2.7"})
    assert run_shim(ctx) == "failure" and "does not download" in record["log"][-1]
    ctx, record = shim("actions/setup-python@v5", {"python-version": "3.x"})
    assert run_shim(ctx) == "success" and record["outputs"]["python-version"].startswith("3.")


def test_unknown_action_fails_clearly() -> None:
    ctx, record = shim("actions/cache@v4", {})
    assert run_shim(ctx) == "failure" and "not supported" in record["log"][0]
