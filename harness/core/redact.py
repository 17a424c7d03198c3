"""Redact secrets from everything the harness writes (journal, attachments, reports).

Built on the project's one masking implementation (`harness.github.masking`, which the
simulated runner also uses for job logs). The journal redacts with `REDACTED`, a marker
distinct from the `***` that GitHub (and the simulator) put in job logs: a `REDACTED` in a
recorded job log means the secret reached the log unmasked, which the SC-004 checker reports
from the journal alone.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from harness.github.masking import Masker

MASK = "***"
REDACTED = "[deploy-chaos: secret redacted]"
MIN_LEN = 4


def masker(secrets: Iterable[str], replacement: str = MASK) -> Masker:
    """A masker for `secrets`, each line of multi-line secrets included (fragments shorter than MIN_LEN kept)."""
    return Masker([s for s in secrets if s], replacement=replacement, min_length=MIN_LEN)


def secret_fragments(secrets: Iterable[str]) -> list[str]:
    """Every line of every secret worth masking, longest first."""
    return masker(secrets).values()


def redact(text: str, secrets: Iterable[str], replacement: str = MASK) -> str:
    """`text` with every secret fragment replaced by `replacement`."""
    return masker(secrets, replacement).mask(text)


def redact_data(data: Any, mask: Masker) -> Any:
    """A copy of JSON-like `data` with every string (keys included) masked by `mask`."""
    if isinstance(data, str):
        return mask.mask(data)
    if isinstance(data, dict):
        return {redact_data(k, mask) if isinstance(k, str) else k: redact_data(v, mask) for k, v in data.items()}
    if isinstance(data, list | tuple):
        return [redact_data(v, mask) for v in data]
    return data


def leaks(text: str, secrets: Iterable[str]) -> list[str]:
    """Which secret fragments occur in `text`, described without revealing any of their characters."""
    fragments = secret_fragments(secrets)
    return [f"secret fragment #{i} ({len(fragments[i])} chars)" for i in masker(secrets).found(text)]
