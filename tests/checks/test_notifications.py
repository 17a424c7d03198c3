"""Team-channel notification verdicts."""

from __future__ import annotations

from harness.checks.notifications import check_team_told, team_messages
from harness.core.types import Verdict


def msg(seq: int, ts: int, event: str, version: str, path: str = "/team") -> dict[str, object]:
    return {"seq": seq, "received_ms": ts, "path": path, "body": {"event": event, "version": version, "text": "x"}}


def test_only_team_path_counts() -> None:
    assert [m["seq"] for m in team_messages([msg(0, 1, "rollback", "4"), msg(1, 2, "rollback", "4", "/oncall")])] == [0]


def test_rollback_message_passes() -> None:
    result = check_team_told([msg(0, 200, "rollback", "4.0.0")], event="rollback", version="4.0.0", after_ms=100)
    assert result.verdict is Verdict.PASSED


def test_missing_or_old_or_other_version_message_fails() -> None:
    for messages in ([], [msg(0, 50, "rollback", "4.0.0")], [msg(0, 200, "rollback", "3.9.9")]):
        result = check_team_told(messages, event="rollback", version="4.0.0", after_ms=100)
        assert result.verdict is Verdict.FAILED, messages


def test_success_and_rollback_for_the_same_version_is_a_finding() -> None:
    result = check_team_told(
        [msg(0, 200, "success", "4.0.0"), msg(1, 210, "rollback", "4.0.0")],
        event="rollback",
        version="4.0.0",
        after_ms=100,
    )
    assert result.verdict is Verdict.FAILED
    assert "success" in result.message
