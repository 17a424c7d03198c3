"""harness.actions.sampler: paced, continuous, survives failed reads, says how far it sampled."""

from __future__ import annotations

import itertools
import time

import pytest

from harness.actions.sampler import SOURCE, ComponentSampler
from harness.core.journal import Journal


def test_samples_at_its_period_until_stopped_and_journals_the_horizon() -> None:
    journal = Journal("t")
    calls: list[float] = []
    with ComponentSampler(journal, lambda: calls.append(time.monotonic()), period_s=0.02) as sampler:
        time.sleep(0.3)
    assert 10 <= len(calls) <= 17  # about 15 in 0.3 s at 20 ms
    gaps = [b - a for a, b in itertools.pairwise(calls)]
    assert max(gaps) < 0.06
    [end] = journal.entries("watch.end")
    assert end["source"] == SOURCE and end["reads"] == sampler.reads == len(calls)
    assert journal.entries("sampler.start")[0]["period_s"] == 0.02


def test_a_failing_read_is_journalled_and_sampling_goes_on() -> None:
    journal = Journal("t")
    answers = iter([ValueError("db down"), None, None] + [None] * 100)

    def read() -> None:
        value = next(answers)
        if isinstance(value, Exception):
            raise value

    with ComponentSampler(journal, read, period_s=0.01):
        time.sleep(0.1)
    failures = journal.entries("sampler.read", "fail")
    assert len(failures) == 1 and "db down" in failures[0]["error"]
    assert journal.entries("watch.end")[0]["reads"] >= 3


@pytest.mark.parametrize("period", [0, 0.5, -1])
def test_a_period_too_coarse_to_see_short_mixed_windows_is_refused(period: float) -> None:
    with pytest.raises(ValueError, match="sampling period"):
        ComponentSampler(Journal("t"), lambda: None, period_s=period)


def test_stop_is_idempotent() -> None:
    journal = Journal("t")
    sampler = ComponentSampler(journal, lambda: None, period_s=0.05).start()
    first = sampler.stop()
    assert sampler.stop() == first
    assert len(journal.entries("watch.end")) == 1
