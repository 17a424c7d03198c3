"""Parse the step file commands: $GITHUB_OUTPUT, $GITHUB_ENV (key=value and heredoc), $GITHUB_PATH."""

from __future__ import annotations

import os


class FileCommandError(ValueError):
    """A malformed file-command file (e.g. an unterminated heredoc)."""


def parse_key_values(text: str) -> dict[str, str]:
    """`key=value` lines and `key<<DELIM` ... `DELIM` blocks; later keys win."""
    out: dict[str, str] = {}
    lines = text.splitlines()
    i = 0
    while i < len(lines):
        line = lines[i]
        i += 1
        if not line.strip():
            continue
        eq, heredoc = line.find("="), line.find("<<")
        if heredoc > 0 and (eq < 0 or heredoc < eq):
            key, delimiter = line[:heredoc], line[heredoc + 2 :]
            if not key or not delimiter:
                raise FileCommandError(f"invalid heredoc line: {line!r}")
            body: list[str] = []
            while i < len(lines) and lines[i] != delimiter:
                body.append(lines[i])
                i += 1
            if i >= len(lines):
                raise FileCommandError(f"matching delimiter {delimiter!r} not found for {key!r}")
            i += 1
            out[key] = "\n".join(body)
        elif eq > 0:
            out[line[:eq]] = line[eq + 1 :]
        else:
            raise FileCommandError(f"invalid line (expected key=value or key<<DELIMITER): {line!r}")
    return out


def read_key_values(path: str) -> dict[str, str]:
    """parse_key_values of a file ({} when missing)."""
    if not os.path.exists(path):
        return {}
    with open(path, encoding="utf-8", errors="replace") as handle:
        return parse_key_values(handle.read())


def read_paths(path: str) -> list[str]:
    """Non-empty lines of a $GITHUB_PATH file."""
    if not os.path.exists(path):
        return []
    with open(path, encoding="utf-8", errors="replace") as handle:
        return [line.strip() for line in handle if line.strip()]
