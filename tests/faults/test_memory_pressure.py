"""MemoryPressure: lowered cgroup limit + hog, OOM kill observed; fake backend, then a throwaway container."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from harness.core.errors import FaultRevertFailed, Inconclusive
from harness.core.journal import Journal
from harness.faults.memory_pressure import MemoryPressure, oom_kills
from harness.topology.backend import DockerBackend
from harness.topology.fake import UNLIMITED_BYTES, FakeContainerBackend

ROOT = Path(__file__).resolve().parents[2]
MIB = 1 << 20


class MemBackend(FakeContainerBackend):
    """The fake, with a process table and a kernel that OOM-kills (or not) when the hog starts."""

    def __init__(self, kernel_kills: bool = True) -> None:
        super().__init__()
        self.kernel_kills = kernel_kills
        self.procs: dict[str, list[str]] = {"1": ["sleep infinity", "0"]}  # pid -> [cmdline, oom_score_adj]
        self.oom = 0

    def _oom_kill(self) -> None:
        adjusted = [pid for pid, (_, adj) in self.procs.items() if adj == "1000"]
        self.procs.pop(adjusted[0] if adjusted else max(self.procs), None)
        self.oom += 1
        self.cgroup_files[("c", "memory", "memory.oom_control")] = (
            f"oom_kill_disable 0\nunder_oom 0\noom_kill {self.oom}\n"
        )

    def exec_detached(self, name: str, argv: list[str]) -> None:
        """The hog starts; the kernel kills someone if the limit is low."""
        super().exec_detached(name, argv)
        self.procs[str(100 + len(self.detached))] = [" ".join(argv), "0"]
        if self.kernel_kills:
            self._oom_kill()

    def exec(self, name: str, argv: list[str], timeout_s: float = 10.0) -> tuple[int, str]:
        """The PROCS script: list / kill / set oom_score_adj of matching processes."""
        self.calls.append(("exec", name))
        needle, action, only = argv[3], argv[4], argv[5:]
        out = []
        for pid, (cmdline, adj) in list(self.procs.items()):
            if needle in cmdline and (not only or pid in only):
                out.append(f"{pid} {adj}")
                if action == "kill":
                    del self.procs[pid]
                elif action.startswith("adj="):
                    self.procs[pid][1] = action[4:]
        return 0, "\n".join(out)


def make(
    limits: tuple[int, int] = (UNLIMITED_BYTES, UNLIMITED_BYTES), **kwargs: object
) -> tuple[MemBackend, Journal, MemoryPressure]:
    backend = MemBackend(kernel_kills=bool(kwargs.pop("kernel_kills", True)))
    backend.add("c", {"dch.run": "r1"})
    backend.cgroup_files.update(
        {
            ("c", "memory", "memory.limit_in_bytes"): f"{limits[0]}\n",
            ("c", "memory", "memory.memsw.limit_in_bytes"): f"{limits[1]}\n",
            ("c", "memory", "memory.oom_control"): "oom_kill_disable 0\nunder_oom 0\noom_kill 0\n",
            ("c", "memory", "memory.usage_in_bytes"): f"{20 * MIB}\n",
        }
    )
    journal = Journal("r1")
    fault = MemoryPressure(journal, backend, "c", 32, 64, "dch-r1-mem", oom_timeout_s=0.2, **kwargs)  # type: ignore[arg-type]
    return backend, journal, fault


def test_the_limit_drops_the_hog_is_oom_killed_and_the_kernel_limits_come_back() -> None:
    backend, journal, fault = make()
    with fault:
        assert backend.resource_settings["c"] == {"Memory": 32 * MIB, "MemorySwap": 32 * MIB}
        assert backend.detached[0][1][-2:] == ["64", "dch-r1-mem-hog"]
    # an unlimited container comes back as the kernel's unlimited value: docker update cannot set 0 again
    assert backend.resource_settings["c"] == {"Memory": UNLIMITED_BYTES, "MemorySwap": UNLIMITED_BYTES}
    assert backend.cgroup_read("c", "memory", "memory.limit_in_bytes") == f"{UNLIMITED_BYTES}\n"
    assert [c[0] for c in backend.calls if c[0] in ("update_resources", "exec_detached")] == [
        "update_resources",
        "exec_detached",
        "update_resources",
    ]
    inject = journal.last("fault.inject", "ok")
    assert inject is not None and inject["oom_kills"] == 1 and inject["victim"] == "the hog"
    assert {"update_ms", "inject_ms", "oom_ms_after_hog_start", "usage_bytes_before"} <= set(inject)
    timing = journal.last("fault.timing", "info")
    assert timing is not None and timing["restored"] == {"Memory": UNLIMITED_BYTES, "MemorySwap": UNLIMITED_BYTES}
    assert fault.leftovers() == []


def test_a_limit_set_before_is_restored_exactly() -> None:
    backend, _, fault = make(limits=(256 * MIB, 512 * MIB))
    with fault:
        pass
    assert backend.resource_settings["c"] == {"Memory": 256 * MIB, "MemorySwap": 512 * MIB}


def test_no_oom_kill_is_inconclusive_and_the_hog_is_killed_and_limits_restored() -> None:
    backend, journal, fault = make(kernel_kills=False)
    with pytest.raises(Inconclusive, match="did not take effect"), fault:
        pass
    assert not any("dch-r1-mem-hog" in cmd for cmd, _ in backend.procs.values())
    assert backend.resource_settings["c"]["Memory"] == UNLIMITED_BYTES
    failed = journal.last("fault.inject", "fail")
    assert failed is not None and failed["error"] == "did not take effect"


def test_a_victim_is_marked_for_the_oom_killer_and_the_hog_survives_until_revert() -> None:
    backend, journal, fault = make(victim="harness.github.agent")
    backend.procs["7"] = ["python3 -m harness.github.agent", "0"]
    with fault:
        assert "7" not in backend.procs  # the kernel took the marked process, not the hog
        assert any("dch-r1-mem-hog" in cmd for cmd, _ in backend.procs.values())
    assert not any("dch-r1-mem-hog" in cmd for cmd, _ in backend.procs.values())
    inject = journal.last("fault.inject", "ok")
    assert inject is not None and inject["victims_killed"] == ["7"]


def test_a_surviving_victim_gets_its_oom_score_adj_back() -> None:
    backend, _, fault = make(victim="agent", kernel_kills=False)
    backend.procs["7"] = ["python3 -m agent", "0"]
    with pytest.raises(Inconclusive), fault:
        pass
    assert backend.procs["7"][1] == "0"


def test_a_missing_victim_is_inconclusive_before_any_limit_changes() -> None:
    backend, _, fault = make(victim="no-such-process")
    with pytest.raises(Inconclusive, match="matches the victim"), fault:
        pass
    assert "c" not in backend.resource_settings


def test_limits_that_do_not_come_back_are_leftovers() -> None:
    backend, _, fault = make()
    original = backend.update_resources
    calls: list[dict[str, int]] = []

    def first_only(name: str, **fields: int) -> None:
        calls.append(fields)
        if len(calls) == 1:
            original(name, **fields)

    backend.update_resources = first_only  # type: ignore[method-assign]
    with pytest.raises(FaultRevertFailed, match="memory limits"), fault:
        pass


def test_limits_below_the_engines_minimum_are_refused() -> None:
    with pytest.raises(ValueError, match="6 MB"):
        MemoryPressure(Journal("r1"), FakeContainerBackend(), "c", 4, 64, "t")


def test_oom_kill_count_parsing() -> None:
    assert oom_kills("oom_kill_disable 0\nunder_oom 0\noom_kill 3\n") == 3
    assert oom_kills("oom_kill_disable 0\nunder_oom 0\n") == 0


# --- for real -------------------------------------------------------------------------------------------

ALLOCATE_100_MB = "b = bytearray(100 << 20); b[::4096] = b'\\x01' * (len(b) // 4096); print('ok')"


@pytest.mark.docker
def test_the_hog_is_oom_killed_and_the_container_is_unlimited_again(runner: tuple[DockerBackend, str]) -> None:
    backend, name = runner
    journal = Journal("docker-test")
    with MemoryPressure(journal, backend, name, 32, 64, f"dch-{uuid.uuid4().hex[:6]}-mem") as fault:
        assert backend.cgroup_read(name, "memory", "memory.limit_in_bytes").strip() == str(32 * MIB)
        code, _ = backend.exec(name, ["python3", "-c", ALLOCATE_100_MB])
        assert code == 137  # any process needing more than the limit is killed too while the fault is in place
    assert fault.leftovers() == []
    assert backend.cgroup_read(name, "memory", "memory.limit_in_bytes").strip() == str(UNLIMITED_BYTES)
    assert backend.exec(name, ["python3", "-c", ALLOCATE_100_MB]) == (0, "ok\n")
    inject, timing = journal.last("fault.inject", "ok"), journal.last("fault.timing", "info")
    assert inject is not None and timing is not None and inject["oom_kills"] >= 1
    print(
        f"memory_pressure: docker update {inject['update_ms']} ms, inject {inject['inject_ms']} ms, "
        f"OOM kill {inject['oom_ms_after_hog_start']} ms after the hog started, "
        f"revert {timing['revert_ms']} ms (docker update {timing['update_ms']} ms)"
    )


@pytest.mark.docker
def test_a_marked_victim_is_killed_instead_of_the_hog(runner: tuple[DockerBackend, str]) -> None:
    backend, name = runner
    holder = "import time; b = bytearray(40 << 20); b[::4096] = b'\\x01' * (len(b) // 4096); time.sleep(600)"
    backend.exec_detached(name, ["python3", "-c", holder, "dch-victim"])
    journal = Journal("docker-test")
    tag = f"dch-{uuid.uuid4().hex[:6]}-mem"
    # 64 MB: the victim (40 MB + an interpreter) and the hog (24 MB + one) do not fit together; the hog alone
    # fits with room to spare, since the kernel frees the victim's memory asynchronously while the hog still grows
    with MemoryPressure(journal, backend, name, 64, 24, tag, victim="dch-victim") as fault:
        assert fault._procs(fault.hog_marker)  # the hog got its memory once the victim was gone
        assert not fault._procs("dch-victim")
    assert fault.leftovers() == []
    inject = journal.last("fault.inject", "ok")
    assert inject is not None and inject["victims_killed"]
