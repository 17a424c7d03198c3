"""PacketLoss: iptables statistic rules in a container's netns, loss measured by ICMP echo; fake, then for real."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from harness.core.errors import FaultRevertFailed, Inconclusive
from harness.core.journal import Journal
from harness.faults.packet_loss import PING, PacketLoss, nth_pattern
from harness.topology.backend import DockerBackend
from harness.topology.fake import FakeContainerBackend

ROOT = Path(__file__).resolve().parents[2]
TAG = "dch-r1-loss"


class LossBackend(FakeContainerBackend):
    """The fake, with echoes that are lost at `loss` while this fault's rules are in place (none before)."""

    def __init__(self, loss: float = 0.3, baseline_loss: float = 0.0) -> None:
        super().__init__()
        self.loss, self.baseline_loss = loss, baseline_loss
        self.pinged: list[str] = []

    def exec(self, name: str, argv: list[str], timeout_s: float = 10.0) -> tuple[int, str]:
        """The ICMP probe, and `ip route` for the default gateway."""
        self.calls.append(("exec", name))
        if argv[:2] == ["ip", "-4"]:
            return 0, "default via 172.18.0.1 dev eth0\n"
        assert argv[2] == PING
        self.pinged.append(argv[3])
        count = int(argv[4])
        ruled = any(TAG in r for r in self.rules.get(name, [])) and not self.ignore_iptables
        lost = round(count * (self.loss if ruled else self.baseline_loss))
        return 0, f"{count} {count - lost} {'x' * lost}{'.' * (count - lost)}\n"


def make(loss: float = 0.3, **kwargs: object) -> tuple[LossBackend, Journal, PacketLoss]:
    backend = LossBackend(loss=loss, baseline_loss=float(kwargs.pop("baseline_loss", 0.0)))  # type: ignore[arg-type]
    backend.ignore_iptables = bool(kwargs.pop("ignore_iptables", False))
    backend.add("runner", {"dch.run": "r1"})
    backend.add("github", {"dch.run": "r1"})
    backend.ips["github"] = "172.18.0.2"
    kwargs.setdefault("peers", ["github"])
    journal = Journal("r1")
    return backend, journal, PacketLoss(journal, backend, "runner", kwargs.pop("p", 0.3), TAG, **kwargs)  # type: ignore[arg-type]


def test_nth_mode_marks_seeded_positions_and_drops_the_marked_packets() -> None:
    backend, journal, fault = make(mode="nth", seed=7)
    window, positions = nth_pattern(0.3, 7)
    assert window == 10 and len(positions) == 3
    with fault:
        rules = backend.rules["runner"]
        assert f"-A OUTPUT -d 172.18.0.2 -m mark --mark 0x8000000/0x8000000 -m comment --comment {TAG} -j DROP" in rules
        marks = [r for r in rules if r.endswith("-j MARK --set-xmark 0x8000000/0x8000000")]
        assert sorted(int(r.split("--packet ")[1].split()[0]) for r in marks) == positions
        assert all("--mode nth --every 10" in r and r.startswith("-A OUTPUT -d 172.18.0.2") for r in marks)
    assert backend.rules["runner"] == [] and fault.leftovers() == []
    inject = journal.last("fault.inject", "ok")
    assert inject is not None and inject["nth"] == {"every": 10, "positions": positions} and inject["seed"] == 7
    assert inject["measured_loss"] == 0.3 and inject["expected_loss"] == 0.3 and inject["echoes_sent"] == 200
    assert inject["rules"] == 4 and "inject_ms" in inject and "effect_check_ms" in inject
    timing = journal.last("fault.timing", "info")
    assert timing is not None and "revert_ms" in timing


def test_one_position_per_window_needs_no_mark() -> None:
    backend, _, fault = make(loss=0.2, p=0.2, mode="nth", seed=1)
    with fault:
        (rule,) = backend.rules["runner"]
        assert "--mode nth --every 5 --packet" in rule and rule.endswith("-j DROP")


def test_the_seed_decides_the_pattern_and_replays_it() -> None:
    assert nth_pattern(0.3, 7) == nth_pattern(0.3, 7)
    assert len({tuple(nth_pattern(0.3, seed)[1]) for seed in range(20)}) > 1
    assert nth_pattern(0.05, 3)[0] == 20 and nth_pattern(0.333, 0)[0] == 3
    with pytest.raises(ValueError, match="rounds to 0"):
        nth_pattern(0.001, 0)


def test_random_mode_uses_the_kernels_prng_and_says_it_is_not_seeded() -> None:
    backend, journal, fault = make(mode="random", seed=5)
    with fault:
        (rule,) = backend.rules["runner"]
        assert "-m statistic --mode random --probability 0.300000" in rule and rule.endswith("-j DROP")
    inject = journal.last("fault.inject", "ok")
    assert inject is not None and inject["seeded"] is False and "nth" not in inject


def test_both_directions_drop_requests_and_replies() -> None:
    backend, _, fault = make(loss=0.51, direction="both")
    assert fault.expected_loss == pytest.approx(0.51)
    with fault:
        chains = sorted(r.split()[1] for r in backend.rules["runner"])
        assert chains == ["INPUT", "OUTPUT"]
        assert any(r.startswith("-A INPUT -s 172.18.0.2") for r in backend.rules["runner"])


def test_every_peer_means_all_but_loopback_and_the_gateway_is_probed() -> None:
    backend, journal, fault = make(peers=None)
    with fault:
        (rule,) = backend.rules["runner"]
        assert rule.startswith("-A OUTPUT ! -o lo -m statistic")
    assert backend.pinged == ["172.18.0.1", "172.18.0.1"]
    inject = journal.last("fault.inject", "ok")
    assert inject is not None and inject["peers"] == "all" and inject["probe_ip"] == "172.18.0.1"


def test_rules_without_effect_are_inconclusive_and_removed() -> None:
    backend, journal, fault = make(ignore_iptables=True)
    with pytest.raises(Inconclusive, match="did not take effect"), fault:
        pass
    assert backend.rules["runner"] == []
    assert journal.last("fault.inject", "fail") is not None


def test_a_loss_far_from_the_expected_one_is_inconclusive() -> None:
    backend, _, fault = make(loss=1.0)
    with pytest.raises(Inconclusive), fault:
        pass
    assert backend.rules["runner"] == []


def test_a_peer_that_does_not_answer_before_the_fault_is_inconclusive_and_nothing_is_added() -> None:
    backend, _, fault = make(baseline_loss=0.5)
    with pytest.raises(Inconclusive, match="answered 10/20"), fault:
        pass
    assert backend.calls.count(("netns_exec", "runner")) == 1  # the leftovers check; no rule was ever added


def test_a_rule_left_behind_is_reported() -> None:
    backend, _, fault = make()
    original = backend.netns_exec
    backend.netns_exec = lambda name, argv: (0, "") if "-D" in argv else original(name, argv)  # type: ignore[method-assign]
    with pytest.raises(FaultRevertFailed, match=TAG), fault:
        pass


# --- for real -------------------------------------------------------------------------------------------


@pytest.mark.docker
def test_nth_loss_is_exact_and_replays_and_random_loss_is_near_p(pair: tuple[DockerBackend, str, str]) -> None:
    backend, a, b = pair
    patterns = []
    for _ in range(2):
        journal = Journal("docker-test")
        tag = f"dch-{uuid.uuid4().hex[:6]}-loss"
        with PacketLoss(journal, backend, a, 0.3, tag, peers=[b], mode="nth", seed=11) as fault:
            pass
        assert fault.leftovers() == []
        inject = journal.last("fault.inject", "ok")
        assert inject is not None and inject["measured_loss"] == 0.3
        patterns.append(inject["drop_pattern"])
    assert patterns[0] == patterns[1]  # the same seed drops the same echoes
    window, positions = nth_pattern(0.3, 11)
    assert [i for i, c in enumerate(patterns[0][:window]) if c == "x"] == positions
    journal = Journal("docker-test")
    with PacketLoss(journal, backend, a, 0.3, f"dch-{uuid.uuid4().hex[:6]}-loss", peers=[b]) as fault:
        pass
    inject, timing = journal.last("fault.inject", "ok"), journal.last("fault.timing", "info")
    assert inject is not None and timing is not None and 0.15 < inject["measured_loss"] < 0.45
    assert fault._ping(100)[:2] == (100, 100)  # nothing lost after revert
    assert "-m statistic" not in backend.netns_exec(a, ["iptables", "-S"])[1]
    print(
        f"packet_loss: nth 0.3 → {patterns[0][:30]}…; random 0.3 measured {inject['measured_loss']}; "
        f"inject {inject['inject_ms']} ms, probe {inject['effect_check_ms']} ms, revert {timing['revert_ms']} ms"
    )
