"""Prometheus durations."""

from __future__ import annotations

import pytest

from harness.core.errors import ConfigError
from harness.core.promdur import format_duration, parse_duration


@pytest.mark.parametrize(
    ("text", "seconds"), [("5m", 300), ("1h30m", 5400), ("90s", 90), ("250ms", 0.25), ("0s", 0), ("1d", 86400)]
)
def test_parse(text: str, seconds: float) -> None:
    assert parse_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "5", "5 m", "five minutes", "5mm", "-5m"])
def test_parse_rejects_garbage_naming_it(text: str) -> None:
    with pytest.raises(ConfigError, match="not a Prometheus duration"):
        parse_duration(text)


@pytest.mark.parametrize(
    ("seconds", "text"), [(5, "5s"), (300 / 60, "5s"), (0.25, "250ms"), (0, "0s"), (1.5, "1500ms")]
)
def test_format(seconds: float, text: str) -> None:
    assert format_duration(seconds) == text
    assert parse_duration(text) == pytest.approx(seconds)
