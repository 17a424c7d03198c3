"""harness.report.attach: the timeline picture and run-wide attachments reach Allure, secrets masked, never raising."""

from __future__ import annotations

import logging
from typing import Any

import pytest

from harness.report import attach, timeline

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def entries(runner: str = "runner-primary") -> list[dict[str, Any]]:
    """A scenario window with one job on `runner`."""
    event = {
        "type": "job.started",
        "ts_ms": 1_000,
        "job_id": 1,
        "run_id": 1,
        "job_key": "deploy",
        "runner_name": runner,
    }
    return [
        {"seq": 0, "type": "info", "op": "scenario.start", "ts_ms": 0, "scenario": "s"},
        {"seq": 1, "type": "info", "op": "github.event", "ts_ms": 1_200, "event": event},
    ]


@pytest.fixture
def attached(monkeypatch: pytest.MonkeyPatch) -> list[dict[str, Any]]:
    """What reaches allure.attach and allure.global_attach."""
    calls: list[dict[str, Any]] = []

    def record(scope: str) -> Any:
        return lambda body, **kw: calls.append({"scope": scope, "body": body, **kw})

    monkeypatch.setattr(attach.allure, "attach", record("test"))
    monkeypatch.setattr(attach.allure, "global_attach", record("global"))
    return calls


def test_the_timeline_is_attached_as_a_png(attached: list[dict[str, Any]]) -> None:
    assert attach.attach_timeline(entries()) is None
    [call] = attached
    assert call["name"] == "timeline" and call["attachment_type"] == attach.allure.attachment_type.PNG
    assert call["body"].startswith(PNG_MAGIC)


def test_nothing_to_draw_attaches_nothing(attached: list[dict[str, Any]]) -> None:
    assert attach.attach_timeline(entries()[:1]) is None
    assert attach.attach_timeline([]) is None
    assert attached == []


def test_the_pictures_labels_are_redacted(attached: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch) -> None:
    drawn: list[timeline.TimelineData] = []
    monkeypatch.setattr(attach, "render_png", lambda data: drawn.append(data) or PNG_MAGIC)

    attach.attach_timeline(entries("runner-s3cr3t-value"), secrets=["s3cr3t-value"])

    assert drawn[0].runners == ("runner-***",)


def test_a_picture_that_cannot_be_drawn_is_logged_and_returned_never_raised(
    attached: list[dict[str, Any]], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    def broken(data: timeline.TimelineData) -> bytes:
        raise ValueError("no fonts")

    monkeypatch.setattr(attach, "render_png", broken)
    with caplog.at_level(logging.WARNING, logger="harness.report"):
        error = attach.attach_timeline(entries())

    assert error == "ValueError: no fonts"
    assert "the timeline picture was not attached: ValueError: no fonts" in caplog.text
    assert attached == []


def test_global_text_is_attached_to_the_run_with_secrets_masked(attached: list[dict[str, Any]]) -> None:
    attach.attach_global_text("claims matrix", "| key hunter22 |", secrets=["hunter22"], extension="md")
    assert attached == [
        {
            "scope": "global",
            "body": "| key *** |",
            "name": "claims matrix",
            "attachment_type": "text/plain",
            "extension": "md",
        }
    ]
