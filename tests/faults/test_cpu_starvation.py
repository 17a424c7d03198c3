"""CpuStarvation: CFS quota lowered, throttling and starved workers observed; fake backend, then for real."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.core.errors import FaultRevertFailed, Inconclusive
from harness.core.journal import Journal
from harness.faults.cpu_starvation import BUSY, CpuStarvation, throttled
from harness.topology.backend import DockerBackend
from harness.topology.fake import FakeContainerBackend

ROOT = Path(__file__).resolve().parents[2]


class CpuBackend(FakeContainerBackend):
    """The fake, with a CFS scheduler: busy workers get quota/period CPUs (2 when unlimited) and get throttled."""

    def __init__(self, enforced: bool = True) -> None:
        super().__init__()
        self.enforced, self.throttles = enforced, 0
        self.cgroup_files.update(
            {("c", "cpu", "cpu.cfs_quota_us"): "-1\n", ("c", "cpu", "cpu.cfs_period_us"): "100000\n"}
        )
        self._stat()

    def _stat(self) -> None:
        self.cgroup_files[("c", "cpu", "cpu.stat")] = f"nr_periods 9\nnr_throttled {self.throttles}\nthrottled_time 1\n"

    def exec(self, name: str, argv: list[str], timeout_s: float = 10.0) -> tuple[int, str]:
        """The busy-workers probe."""
        self.calls.append(("exec", name))
        assert argv[2] == BUSY
        quota = int(self.cgroup_files[("c", "cpu", "cpu.cfs_quota_us")])
        got = quota / 100000 if quota > 0 and self.enforced else 2.0
        if quota > 0 and self.enforced:
            self.throttles += 5
            self._stat()
        return 0, f"{got} 0.51 {got / 2}\n"


def make(**kwargs: object) -> tuple[CpuBackend, Journal, CpuStarvation]:
    backend = CpuBackend(enforced=bool(kwargs.pop("enforced", True)))
    backend.add("c", {"dch.run": "r1"})
    journal = Journal("r1")
    return backend, journal, CpuStarvation(journal, backend, "c", 0.25, **kwargs)  # type: ignore[arg-type]


def test_an_unlimited_container_gets_a_quota_and_then_no_limit_again() -> None:
    backend, journal, fault = make()
    with fault:
        assert backend.cgroup_files[("c", "cpu", "cpu.cfs_quota_us")] == "25000\n"
    assert backend.resource_settings["c"] == {"CpuQuota": -1}  # the engine's "no limit" for the quota
    assert backend.cgroup_files[("c", "cpu", "cpu.cfs_quota_us")] == "-1\n"
    inject = journal.last("fault.inject", "ok")
    assert inject is not None and inject["set"] == {"CpuQuota": 25000}
    assert inject["cpus_got_before"] == 2.0 and inject["cpus_got_during"] == 0.25
    assert inject["nr_throttled_during_probe"] == 5 and "update_ms" in inject
    timing = journal.last("fault.timing", "info")
    assert timing is not None and timing["restored"] == {"CpuQuota": -1} and "revert_ms" in timing
    assert fault.leftovers() == []


def test_a_container_started_with_cpus_is_changed_and_restored_through_nanocpus() -> None:
    backend, _, fault = make()
    backend.resource_settings["c"] = {"NanoCpus": 1_500_000_000}
    backend.cgroup_files[("c", "cpu", "cpu.cfs_quota_us")] = "150000\n"
    with fault:
        assert backend.resource_settings["c"]["NanoCpus"] == 250_000_000
    assert backend.resource_settings["c"] == {"NanoCpus": 1_500_000_000}
    assert backend.cgroup_files[("c", "cpu", "cpu.cfs_quota_us")] == "150000\n"


def test_a_quota_set_before_is_restored() -> None:
    backend, _, fault = make()
    backend.resource_settings["c"] = {"CpuQuota": 50000}
    backend.cgroup_files[("c", "cpu", "cpu.cfs_quota_us")] = "50000\n"
    with fault:
        pass
    assert backend.resource_settings["c"] == {"CpuQuota": 50000}


def test_a_quota_the_kernel_does_not_enforce_is_inconclusive_and_reverted() -> None:
    backend, journal, fault = make(enforced=False)
    with pytest.raises(Inconclusive, match="did not take effect"), fault:
        pass
    assert backend.cgroup_files[("c", "cpu", "cpu.cfs_quota_us")] == "-1\n"
    assert journal.last("fault.inject", "fail") is not None


def test_a_quota_left_in_place_is_a_leftover() -> None:
    backend, _, fault = make()
    original = backend.update_resources
    backend.update_resources = lambda name, **fields: None if fields.get("CpuQuota") == -1 else original(name, **fields)  # type: ignore[method-assign]
    with pytest.raises(FaultRevertFailed, match="cfs_quota_us 25000"), fault:
        pass


def test_quotas_below_one_ms_are_refused_and_throttle_counts_parse() -> None:
    with pytest.raises(ValueError, match=r"0\.01"):
        CpuStarvation(Journal("r1"), FakeContainerBackend(), "c", 0.001)
    assert throttled("nr_periods 3\nnr_throttled 2\nthrottled_time 5\n") == 2


# --- for real -------------------------------------------------------------------------------------------


@pytest.mark.docker
def test_busy_workers_get_a_quarter_cpu_and_the_full_machine_after(runner: tuple[DockerBackend, str]) -> None:
    backend, name = runner
    journal = Journal("docker-test")
    with CpuStarvation(journal, backend, name, 0.25) as fault:
        assert backend.cgroup_read(name, "cpu", "cpu.cfs_quota_us").strip() == "25000"
    assert fault.leftovers() == []
    assert backend.cgroup_read(name, "cpu", "cpu.cfs_quota_us").strip() == "-1"
    assert backend.resources(name)["CpuQuota"] == -1 and backend.resources(name)["NanoCpus"] == 0
    throttled_before = throttled(backend.cgroup_read(name, "cpu", "cpu.stat"))
    after = fault._busy()
    # the host is shared (2 cores, other tests running): what the workers get after varies, being throttled not
    assert throttled(backend.cgroup_read(name, "cpu", "cpu.stat")) == throttled_before
    inject, timing = journal.last("fault.inject", "ok"), journal.last("fault.timing", "info")
    assert inject is not None and timing is not None
    assert inject["cpus_got_during"] <= 0.35 and inject["nr_throttled_during_probe"] > 0
    print(
        f"cpu_starvation: workers got {inject['cpus_got_before']} CPUs before, {inject['cpus_got_during']} during, "
        f"{after} after; docker update {inject['update_ms']} ms, revert {timing['revert_ms']} ms"
    )
