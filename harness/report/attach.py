"""Attach measured figures and evidence to the Allure report, secrets masked."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable, Sequence
from typing import Any

import allure

from harness.core.redact import redact
from harness.report.timeline import extract_timeline, redact_timeline, render_png

LOG = logging.getLogger("harness.report")


def attach_json(name: str, data: Any, secrets: Iterable[str] = ()) -> None:
    """Attach `data` as pretty JSON under `name`, with every secret fragment masked."""
    text = redact(json.dumps(data, indent=2, default=str, sort_keys=True), list(secrets))
    allure.attach(text, name=name, attachment_type=allure.attachment_type.JSON)


def attach_text(name: str, text: str, secrets: Iterable[str] = ()) -> None:
    """Attach plain text, secrets masked."""
    allure.attach(redact(text, list(secrets)), name=name, attachment_type=allure.attachment_type.TEXT)


def attach_verdict(entry: dict[str, Any]) -> None:
    """Journal subscriber: attach each verdict's measurement (and a finding's evidence) to the report."""
    if entry.get("op") != "check.verdict":
        return
    check, result = entry["request"]["check"], entry["result"]
    attach_json(
        f"{check}: {result['verdict']}",
        {k: result.get(k) for k in ("verdict", "message", "measured", "budget")}
        | {"budgets asked": entry["request"]["budgets"]},
    )
    if result["verdict"] == "failed":
        attach_json(f"{check} evidence", result.get("evidence", {}))


def attach_timeline(
    entries: Sequence[dict[str, Any]], secrets: Iterable[str] = (), name: str = "timeline"
) -> str | None:
    """Attach the timeline picture (PNG) of one scenario's journal entries; nothing when there is nothing to draw.

    Never raises: a picture that cannot be drawn is logged and its error returned (for the caller to
    journal), so reporting never breaks a scenario.
    """
    try:
        data = redact_timeline(extract_timeline(entries), secrets)
        if not data.empty:
            allure.attach(render_png(data), name=name, attachment_type=allure.attachment_type.PNG)
    except Exception as exc:  # a picture is a convenience; the run and its verdicts must go on without it
        error = f"{type(exc).__name__}: {exc}"[:500]
        LOG.warning("the timeline picture was not attached: %s", error)
        return error
    return None


def attach_global_text(
    name: str, text: str, secrets: Iterable[str] = (), extension: str = "txt", mime: str = "text/plain"
) -> None:
    """Attach `text` to the whole run (Allure's global attachments, not one scenario's), secrets masked."""
    allure.global_attach(redact(text, list(secrets)), name=name, attachment_type=mime, extension=extension)
