"""Workflow commands printed by steps on stdout: `::add-mask::`, `::error::`, `::group::`, ..."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

_COMMAND_RE = re.compile(r"^::([A-Za-z][A-Za-z-]*)(?: ([^:]*))?::(.*)$")


@dataclass(frozen=True)
class Command:
    """A parsed `::name key=value,...::message` line."""

    name: str
    params: dict[str, str] = field(default_factory=dict)
    message: str = ""


def _unescape(text: str) -> str:
    return text.replace("%0D", "\r").replace("%0A", "\n").replace("%3A", ":").replace("%2C", ",").replace("%25", "%")


def parse_command(line: str) -> Command | None:
    """The command on `line`, or None when the line is ordinary output."""
    match = _COMMAND_RE.match(line.strip())
    if match is None:
        return None
    params: dict[str, str] = {}
    for part in (match.group(2) or "").split(","):
        key, sep, value = part.partition("=")
        if sep and key.strip():
            params[key.strip()] = _unescape(value)
    return Command(match.group(1).lower(), params, _unescape(match.group(3)))
