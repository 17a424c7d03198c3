"""Prometheus duration strings ("1h30m", "5m", "90s", "250ms") to seconds and back."""

from __future__ import annotations

import re

from harness.core.errors import ConfigError

UNITS = {"ms": 0.001, "s": 1, "m": 60, "h": 3600, "d": 86400, "w": 604800, "y": 31536000}
PART = re.compile(r"(\d+)(ms|s|m|h|d|w|y)")


def parse_duration(text: str) -> float:
    """Seconds in a Prometheus duration; ConfigError on anything else."""
    text = str(text).strip()
    if not text or PART.sub("", text):
        raise ConfigError(f"{text!r} is not a Prometheus duration (like 90s, 5m, 1h30m)")
    return sum(int(n) * UNITS[u] for n, u in PART.findall(text))


def format_duration(seconds: float) -> str:
    """A Prometheus duration for `seconds`, in milliseconds when not whole seconds."""
    if seconds <= 0:
        return "0s"
    millis = round(seconds * 1000)
    return f"{millis // 1000}s" if millis % 1000 == 0 else f"{millis}ms"
