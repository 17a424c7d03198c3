"""NetworkPartition with the fake backend: rules added, verified, removed by spec, leftovers found."""

from __future__ import annotations

import pytest

from harness.core.errors import Inconclusive
from harness.core.journal import Journal
from harness.faults.partition import NetworkPartition
from harness.topology.fake import FakeContainerBackend

PROBE = ["curl", "-m", "2", "http://github:8000/healthz"]


def make(**kwargs: object) -> tuple[FakeContainerBackend, Journal, NetworkPartition]:
    backend = FakeContainerBackend(**kwargs)  # type: ignore[arg-type]
    backend.add("runner", {"dch.run": "r1"})
    backend.add("github", {"dch.run": "r1"})
    backend.ips["github"] = "172.18.0.2"
    journal = Journal("r1")
    return backend, journal, NetworkPartition(journal, backend, "runner", "github", "github", PROBE, "dch-r1-part")


def test_inject_adds_tagged_drop_rules_both_ways_and_revert_removes_them() -> None:
    backend, journal, fault = make()
    with fault:
        rules = backend.rules["runner"]
        assert any(
            r.startswith("-A OUTPUT -d 172.18.0.2") and "dch-r1-part" in r and r.endswith("-j DROP") for r in rules
        )
        assert any(r.startswith("-A INPUT -s 172.18.0.2") for r in rules)
        assert fault.took_effect()
    assert backend.rules["runner"] == []
    assert fault.leftovers() == []
    assert journal.last("fault.revert", "ok") is not None


def test_rules_that_do_not_cut_the_path_make_the_scenario_inconclusive() -> None:
    backend, journal, fault = make(ignore_iptables=True)
    with pytest.raises(Inconclusive, match="did not take effect"), fault:
        pass
    assert backend.rules["runner"] == []  # reverted even though it never took effect
    assert journal.last("fault.inject", "fail") is not None


def test_revert_runs_when_the_body_fails() -> None:
    backend, _, fault = make()
    with pytest.raises(RuntimeError), fault:
        raise RuntimeError("scenario step failed")
    assert backend.rules["runner"] == []


def test_foreign_rules_are_left_alone_and_not_leftovers() -> None:
    backend, _, fault = make()
    backend.rules["runner"] = ["-A OUTPUT -d 10.0.0.9/32 -j ACCEPT"]
    with fault:
        pass
    assert backend.rules["runner"] == ["-A OUTPUT -d 10.0.0.9/32 -j ACCEPT"]
    assert fault.leftovers() == []


def test_a_rule_left_behind_is_reported() -> None:
    backend, _, fault = make()
    backend.rules["runner"] = ["-A OUTPUT -d 172.18.0.2/32 -m comment --comment dch-r1-part -j DROP"]
    assert fault.leftovers() == ["-A OUTPUT -d 172.18.0.2/32 -m comment --comment dch-r1-part -j DROP"]
