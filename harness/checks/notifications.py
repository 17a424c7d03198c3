"""Team notifications (Slack-style webhook): the right event, for the right version, after the trigger."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from harness.checks.history import History
from harness.core.types import CheckRequest, CheckResult, Verdict

CLAIM = "US3: the team is notified of what the deploy did (e.g. an automatic rollback)"


def team_messages(messages: Sequence[dict[str, Any]], path: str = "/team") -> list[dict[str, Any]]:
    """Sink messages posted to the team channel's path."""
    return [m for m in messages if m.get("path") == path]


def check_team_told(messages: Sequence[dict[str, Any]], *, event: str, version: str, after_ms: int) -> CheckResult:
    """Verdict: a team message with `event` about `version` arrived after `after_ms`, and no contrary one."""
    mine = [
        m
        for m in team_messages(messages)
        if m["received_ms"] >= after_ms and isinstance(m.get("body"), dict) and m["body"].get("version") == version
    ]
    events = [m["body"].get("event") for m in mine]
    evidence = {"team_messages": mine}
    if event not in events:
        return CheckResult(
            CLAIM,
            Verdict.FAILED,
            f"the team channel got no {event!r} message about {version} (it got {events or 'nothing'})",
            evidence=evidence,
        )
    contrary = [e for e in events if e != event]
    if contrary:
        return CheckResult(
            CLAIM,
            Verdict.FAILED,
            f"the team channel was told {contrary} as well as {event!r} about {version}",
            evidence=evidence,
        )
    return CheckResult(CLAIM, Verdict.PASSED, f"the team channel was told {event!r} about {version}", evidence=evidence)


def judge_team_told(history: History, request: CheckRequest) -> CheckResult:
    """From the journalled webhook messages, after the run's trigger."""
    p = request.params
    return check_team_told(
        history.oncall_messages(), event=p["event"], version=p["version"], after_ms=history.trigger_ms(p["run_id"])
    )
