"""Reading the pipeline's production state file: what was read, as data a checker judges."""

from __future__ import annotations

import json
from typing import Any

from harness.core.journal import Journal

STATE_FILE = "/var/lib/app-production-state.json"


def state_file_read(text: str | None, error: str | None = None) -> dict[str, Any]:
    """{"state": {...}} for a JSON object, else {"error": ...} (unreadable, or not a JSON object, with its content)."""
    if error is not None or text is None:
        return {"error": f"cannot read {STATE_FILE} on the production host: {error or 'no content'}"}
    try:
        return {"state": dict(json.loads(text))}
    except (ValueError, TypeError) as exc:
        return {"error": f"{STATE_FILE} is not a JSON object: {exc}", "content": text[:2000]}


def record_state_file(journal: Journal, read: dict[str, Any]) -> dict[str, Any]:
    """Journal a state-file read (op production.state_file) and return it."""
    journal.info("production.state_file", path=STATE_FILE, **read)
    return read
