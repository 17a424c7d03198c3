"""BandwidthCap: tc tbf (and ifb for ingress) in a container's netns, throughput measured by a client."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from harness.core.errors import FaultRevertFailed, Inconclusive
from harness.core.journal import Journal
from harness.faults.bandwidth_cap import BandwidthCap, TcpThroughput
from harness.topology.backend import DockerBackend
from harness.topology.fake import FakeContainerBackend

ROOT = Path(__file__).resolve().parents[2]
TAG = "dch-r1-bw"
IFB = "ifbdchr1bw"


class TcBackend(FakeContainerBackend):
    """The fake, with a tiny `tc` / `ip link` per container (qdisc kinds by parent, links by name)."""

    def __init__(self) -> None:
        super().__init__()
        self.qdiscs: dict[tuple[str, str], str] = {}  # (dev, "root" | "ingress") -> kind
        self.links: set[str] = {"lo", "eth0"}
        self.commands: list[list[str]] = []
        self.refuse: tuple[str, str] | None = None  # (command prefix, error) of a command that fails

    def netns_exec(self, name: str, argv: list[str]) -> tuple[int, str]:
        """tc qdisc add/del/show, tc filter add, ip link add/set/del/show."""
        self.calls.append(("netns_exec", name))
        self.commands.append(argv)
        if self.refuse and " ".join(argv).startswith(self.refuse[0]):
            return 2, self.refuse[1]
        if argv[:3] == ["tc", "qdisc", "add"]:
            dev, where = argv[4], "ingress" if "ingress" in argv else "root"
            self.qdiscs[(dev, where)] = argv[argv.index(where) + 1] if where == "root" else "ingress"
            return 0, ""
        if argv[:3] == ["tc", "qdisc", "del"]:
            return (0, "") if self.qdiscs.pop((argv[4], argv[5]), None) else (2, "Error: Cannot delete qdisc")
        if argv[:3] == ["tc", "qdisc", "show"]:
            shown = [f"qdisc {kind} 8001: dev {d} {where}" for (d, where), kind in self.qdiscs.items() if d == argv[4]]
            return 0, "\n".join([f"qdisc noqueue 0: dev {argv[4]} root refcnt 2", *shown])
        if argv[:3] == ["tc", "filter", "add"]:
            return 0, ""
        if argv[:3] == ["ip", "link", "add"]:
            self.links.add(argv[3])
            return 0, ""
        if argv[:3] == ["ip", "link", "del"]:
            self.links.discard(argv[3])
            self.qdiscs = {key: kind for key, kind in self.qdiscs.items() if key[0] != argv[3]}  # they go with it
            return 0, ""
        if argv[:3] == ["ip", "link", "set"]:
            return 0, ""
        if argv[:3] == ["ip", "link", "show"]:
            return (0, argv[-1]) if argv[-1] in self.links else (1, "Device does not exist")
        return 127, f"not faked: {argv}"

    def throughput(self) -> float:
        """A client's measurement: 95 % of the rate while a tbf is in place, 10 Gbit/s otherwise."""
        return 950.0 if any(kind == "tbf" for kind in self.qdiscs.values()) else 10e6


def make(direction: str = "egress", measure: object = None) -> tuple[TcBackend, Journal, BandwidthCap]:
    backend = TcBackend()
    backend.add("runner", {"dch.run": "r1"})
    journal = Journal("r1")
    probe = measure or backend.throughput
    return backend, journal, BandwidthCap(journal, backend, "runner", 1000, probe, TAG, direction=direction)  # type: ignore[arg-type]


TBF = ["tbf", "rate", "1000kbit", "burst", "10240", "latency", "100ms"]


def test_egress_is_a_tbf_root_on_eth0_and_revert_deletes_it() -> None:
    backend, journal, fault = make()
    with fault:
        assert backend.commands[0] == ["tc", "qdisc", "add", "dev", "eth0", "root", *TBF]
    assert backend.qdiscs == {} and fault.leftovers() == []
    assert ["tc", "qdisc", "del", "dev", "eth0", "root"] in backend.commands
    inject = journal.last("fault.inject", "ok")
    assert inject is not None and inject["kbit_before"] == 10e6 and inject["kbit_during"] == 950.0
    assert inject["rate_kbit"] == 1000 and "inject_ms" in inject and "effect_check_ms" in inject
    timing = journal.last("fault.timing", "info")
    assert timing is not None and "revert_ms" in timing


def test_ingress_goes_through_an_ifb_with_the_tbf_and_is_undone_in_reverse() -> None:
    backend, _, fault = make("ingress")
    with fault:
        assert IFB in backend.links
        assert backend.qdiscs == {(IFB, "root"): "tbf", ("eth0", "ingress"): "ingress"}
        (flt,) = [c for c in backend.commands if c[:3] == ["tc", "filter", "add"]]
        assert flt[-6:] == ["action", "mirred", "egress", "redirect", "dev", IFB]
        assert "u32" in flt and flt[4:7] == ["eth0", "parent", "ffff:"]
    assert backend.links == {"lo", "eth0"} and backend.qdiscs == {}
    undo = [c for c in backend.commands if c[2:3] == ["del"]]
    assert undo == [["tc", "qdisc", "del", "dev", "eth0", "ingress"], ["ip", "link", "del", IFB]]


def test_both_directions_shape_both_ways() -> None:
    backend, _, fault = make("both")
    with fault:
        assert set(backend.qdiscs) == {("eth0", "root"), (IFB, "root"), ("eth0", "ingress")}
    assert backend.qdiscs == {} and backend.links == {"lo", "eth0"}


def test_a_rate_the_client_does_not_see_is_inconclusive_and_reverted() -> None:
    backend, journal, fault = make(measure=lambda: 10e6)
    with pytest.raises(Inconclusive, match="did not take effect"), fault:
        pass
    assert backend.qdiscs == {}
    failed = journal.last("fault.inject", "fail")
    assert failed is not None and failed["error"] == "did not take effect"


def test_a_qdisc_that_cannot_be_added_is_inconclusive_and_nothing_is_deleted() -> None:
    backend, _, fault = make()
    backend.refuse = ("tc qdisc add dev eth0 root", "Error: Exclusivity flag on, cannot modify.")
    with pytest.raises(Inconclusive, match="Exclusivity"), fault:
        pass
    assert not any(c[2:3] == ["del"] for c in backend.commands)


def test_a_qdisc_left_behind_is_reported() -> None:
    backend, _, fault = make()
    backend.refuse = ("tc qdisc del", "Error: Cannot delete qdisc with handle of zero.")
    with pytest.raises(FaultRevertFailed, match="Cannot delete qdisc"), fault:
        pass
    backend.refuse = None
    assert fault.leftovers() == ["runner: qdisc tbf 8001: dev eth0 root"]


def test_the_burst_is_20_ms_worth_and_at_least_10_kib() -> None:
    backend = TcBackend()
    fast = BandwidthCap(Journal("r1"), backend, "runner", 100_000, backend.throughput, TAG)
    assert fast.tbf[fast.tbf.index("burst") + 1] == "250000"
    with pytest.raises(ValueError, match="direction"):
        BandwidthCap(Journal("r1"), backend, "runner", 100, backend.throughput, TAG, direction="up")


# --- for real -------------------------------------------------------------------------------------------


@pytest.mark.docker
@pytest.mark.parametrize("direction", ["egress", "ingress"])
def test_a_download_runs_at_the_capped_rate_and_at_full_speed_after(
    pair: tuple[DockerBackend, str, str], direction: str
) -> None:
    backend, capped, peer = pair
    # egress: the peer downloads from the capped container; ingress: the capped container downloads
    measure = TcpThroughput(backend, capped, peer) if direction == "egress" else TcpThroughput(backend, peer, capped)
    journal = Journal("docker-test")
    tag = f"dch-{uuid.uuid4().hex[:6]}-bw"
    with BandwidthCap(journal, backend, capped, 2000, measure, tag, direction=direction) as fault:
        pass
    assert fault.leftovers() == []
    qdiscs = backend.netns_exec(capped, ["tc", "qdisc", "show"])[1]
    assert "tbf" not in qdiscs and "ingress" not in qdiscs
    inject, timing = journal.last("fault.inject", "ok"), journal.last("fault.timing", "info")
    assert inject is not None and timing is not None
    assert 1600 < inject["kbit_during"] <= 2400 and inject["kbit_before"] > 50_000
    after = measure()
    assert after > 50_000
    print(
        f"bandwidth_cap {direction}: {inject['kbit_before']:.0f} → {inject['kbit_during']:.0f} → {after:.0f} kbit/s; "
        f"inject {inject['inject_ms']} ms, revert {timing['revert_ms']} ms"
    )
