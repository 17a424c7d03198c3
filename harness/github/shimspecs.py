"""Which `uses:` actions the simulator runs as shims, and the `with:` inputs each accepts.

Shared by workflow validation (server) and the shim implementations (runner).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class ShimSpec:
    """An action the runner emulates: `owner/name`, accepted and required `with:` keys."""

    action: str
    inputs: frozenset[str]
    required: frozenset[str] = frozenset()
    no_op_inputs: frozenset[str] = frozenset()  # accepted, logged as having no effect


SHIM_SPECS: tuple[ShimSpec, ...] = (
    ShimSpec(
        "actions/checkout",
        inputs=frozenset({"ref", "path", "repository", "clean"}),
        no_op_inputs=frozenset(
            {
                "fetch-depth",
                "token",
                "persist-credentials",
                "lfs",
                "submodules",
                "fetch-tags",
                "show-progress",
                "set-safe-directory",
            }
        ),
    ),
    ShimSpec(
        "actions/setup-python",
        inputs=frozenset({"python-version"}),
        no_op_inputs=frozenset({"cache", "architecture", "check-latest", "update-environment"}),
    ),
    ShimSpec(
        "nick-fields/retry",
        inputs=frozenset(
            {
                "timeout_minutes",
                "timeout_seconds",
                "max_attempts",
                "command",
                "retry_wait_seconds",
                "shell",
                "retry_on",
                "warning_on_retry",
                "continue_on_error",
                "on_retry_command",
                "new_command_on_retry",
                "polling_interval_seconds",
                "retry_on_exit_code",
            }
        ),
        required=frozenset({"max_attempts", "command"}),
    ),
)


def split_uses(uses: str) -> tuple[str, str]:
    """'actions/checkout@v4' -> ('actions/checkout', 'v4'); ref '' when absent."""
    action, _, ref = uses.strip().partition("@")
    return action.strip().lower(), ref.strip()


def shim_for(uses: str) -> ShimSpec | None:
    """The shim implementing `uses`, or None if the simulator has none."""
    action, _ = split_uses(uses)
    for spec in SHIM_SPECS:
        if spec.action == action:
            return spec
    return None


def supported_actions() -> list[str]:
    """Human-readable list for error messages."""
    return [f"{spec.action}@<ref>" for spec in SHIM_SPECS]
