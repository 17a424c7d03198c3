"""Attach measured figures and evidence to the Allure report, secrets masked."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

import allure

from harness.core.redact import redact


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
