"""Runner label matching and dispatch choice: pure functions, no state."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class RunnerView:
    """What dispatch needs to know about a runner."""

    id: int
    name: str
    labels: tuple[str, ...]
    online: bool
    busy: bool


@dataclass(frozen=True)
class QueuedJobView:
    """What dispatch needs to know about a queued job."""

    id: int
    labels: tuple[str, ...]
    queued_seq: int  # lower = queued earlier


def normalize_labels(labels: Iterable[str]) -> tuple[str, ...]:
    """Strip, drop empties and duplicates (case-insensitively), keep first spelling and order."""
    seen: set[str] = set()
    out: list[str] = []
    for label in labels:
        text = str(label).strip()
        if text and text.casefold() not in seen:
            seen.add(text.casefold())
            out.append(text)
    return tuple(out)


def labels_from_value(value: Any) -> tuple[str, ...]:
    """Labels from an evaluated `runs-on` value: a string, or a list of strings / nested lists.

    Raises TypeError for anything else (objects, null) and ValueError when empty.
    """
    flat: list[str] = []

    def add(item: Any) -> None:
        if isinstance(item, str):
            flat.append(item)
        elif isinstance(item, (list, tuple)):
            for inner in item:
                add(inner)
        else:
            raise TypeError(f"runs-on must evaluate to a label or a list of labels, got {item!r}")

    add(value)
    labels = normalize_labels(flat)
    if not labels:
        raise ValueError(f"runs-on evaluated to no labels ({value!r})")
    return labels


def labels_match(job_labels: Iterable[str], runner_labels: Iterable[str]) -> bool:
    """True if the runner carries every label the job asks for (case-insensitive)."""
    have = {label.casefold() for label in runner_labels}
    return all(label.casefold() in have for label in job_labels)


def can_take(runner: RunnerView, job_labels: Iterable[str]) -> bool:
    """A runner may take a job only when online, idle and carrying all its labels."""
    return runner.online and not runner.busy and labels_match(job_labels, runner.labels)


def eligible_runners(job_labels: Sequence[str], runners: Iterable[RunnerView]) -> list[RunnerView]:
    """Online idle runners that could take a job with these labels, lowest id first."""
    return sorted((r for r in runners if can_take(r, job_labels)), key=lambda r: r.id)


def choose_job(runner: RunnerView, queued: Iterable[QueuedJobView]) -> QueuedJobView | None:
    """The job a polling runner gets: the earliest-queued job whose labels it matches."""
    if not runner.online or runner.busy:
        return None
    candidates = [job for job in queued if labels_match(job.labels, runner.labels)]
    return min(candidates, key=lambda job: job.queued_seq) if candidates else None
