"""Mask secret values (each line of a multi-line secret separately) before anything is written."""

from __future__ import annotations

from collections.abc import Iterable

MASK = "***"
MIN_LEN = 4


def secret_fragments(secrets: Iterable[str]) -> list[str]:
    """Every line of every secret worth masking, longest first."""
    parts = {line.strip() for s in secrets for line in s.splitlines()} | {s.strip() for s in secrets}
    return sorted((p for p in parts if len(p) >= MIN_LEN), key=len, reverse=True)


def redact(text: str, secrets: Iterable[str]) -> str:
    """`text` with every secret fragment replaced by ***."""
    for fragment in secret_fragments(secrets):
        text = text.replace(fragment, MASK)
    return text


def leaks(text: str, secrets: Iterable[str]) -> list[str]:
    """Which secret fragments occur in `text`, described without revealing any of their characters."""
    return [f"secret fragment #{i} ({len(f)} chars)" for i, f in enumerate(secret_fragments(secrets)) if f in text]
