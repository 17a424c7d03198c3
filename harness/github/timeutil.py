"""Timestamp formatting in GitHub's style."""

from __future__ import annotations

import datetime as dt


def iso(ts: float | None) -> str | None:
    """Epoch seconds -> '2024-01-02T03:04:05Z' (None stays None)."""
    if ts is None:
        return None
    return dt.datetime.fromtimestamp(ts, tz=dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def iso_precise(ts: float) -> str:
    """Epoch seconds -> '2024-01-02T03:04:05.1234567Z' (log line prefix)."""
    moment = dt.datetime.fromtimestamp(ts, tz=dt.UTC)
    return moment.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond:06d}0Z"
