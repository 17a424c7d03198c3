"""Label matching and dispatch choice."""

from __future__ import annotations

import pytest

from harness.github.matching import (
    QueuedJobView,
    RunnerView,
    can_take,
    choose_job,
    eligible_runners,
    labels_from_value,
    labels_match,
    normalize_labels,
)

PRIMARY = RunnerView(1, "primary", ("self-hosted", "linux", "production", "primary"), online=True, busy=False)
SECONDARY = RunnerView(2, "secondary", ("self-hosted", "Linux", "production", "secondary"), online=True, busy=False)
ROGUE = RunnerView(3, "rogue", ("self-hosted", "linux"), online=True, busy=False)


def test_runner_must_carry_every_job_label_case_insensitively() -> None:
    assert labels_match(["self-hosted", "LINUX", "primary"], PRIMARY.labels)
    assert labels_match(["linux"], SECONDARY.labels)
    assert not labels_match(["self-hosted", "production"], ROGUE.labels)
    assert labels_match([], ROGUE.labels)


def test_only_online_idle_runners_can_take_jobs() -> None:
    labels = ["self-hosted", "production"]
    assert can_take(PRIMARY, labels)
    assert not can_take(RunnerView(1, "p", PRIMARY.labels, online=False, busy=False), labels)
    assert not can_take(RunnerView(1, "p", PRIMARY.labels, online=True, busy=True), labels)
    assert [r.name for r in eligible_runners(labels, [SECONDARY, ROGUE, PRIMARY])] == ["primary", "secondary"]


def test_choose_job_takes_the_earliest_matching_job() -> None:
    jobs = [
        QueuedJobView(10, ("self-hosted", "secondary"), 1),
        QueuedJobView(11, ("self-hosted",), 3),
        QueuedJobView(12, ("self-hosted", "primary"), 2),
    ]
    assert choose_job(PRIMARY, jobs).id == 12
    assert choose_job(SECONDARY, jobs).id == 10
    assert choose_job(ROGUE, jobs).id == 11
    assert choose_job(RunnerView(1, "p", PRIMARY.labels, online=True, busy=True), jobs) is None
    assert choose_job(ROGUE, [QueuedJobView(10, ("gpu",), 1)]) is None


def test_labels_from_evaluated_runs_on() -> None:
    assert labels_from_value("self-hosted") == ("self-hosted",)
    assert labels_from_value([["self-hosted", "primary"]]) == ("self-hosted", "primary")
    assert labels_from_value(["a", "A", " b "]) == ("a", "b")
    with pytest.raises(TypeError):
        labels_from_value({"labels": "x"})
    with pytest.raises(TypeError):
        labels_from_value(None)
    with pytest.raises(ValueError, match="no labels"):
        labels_from_value([""])


def test_normalize_labels() -> None:
    assert normalize_labels([" self-hosted", "Linux", "linux", ""]) == ("self-hosted", "Linux")
