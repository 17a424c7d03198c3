"""DiskFull: a filled tmpfs over a directory; unit tests on the fake backend, then for real in a throwaway container."""

from __future__ import annotations

import uuid
from pathlib import Path

import pytest

from harness.core.errors import FaultRevertFailed, Inconclusive
from harness.core.journal import Journal
from harness.faults.disk_full import DiskFull
from harness.topology.backend import DockerBackend
from harness.topology.fake import FakeContainerBackend

ROOT = Path(__file__).resolve().parents[2]
WORK = "/runner/work"
TAG = "dch-r1-diskfull"


class DiskBackend(FakeContainerBackend):
    """The fake, plus what a process inside the container sees when it writes one byte."""

    def __init__(self, write_errno: str = "28 ENOSPC") -> None:
        super().__init__()
        self.write_errno = write_errno
        self.mntns_outputs = {"stat": (0, "755 0 0\n"), "df": (0, "Avail\n0\n")}

    def exec(self, name: str, argv: list[str], timeout_s: float = 10.0) -> tuple[int, str]:
        """The 1-byte write probe."""
        self.calls.append(("exec", name))
        return 0, f"{self.write_errno}\n"


def make(**kwargs: str) -> tuple[DiskBackend, Journal, DiskFull]:
    backend = DiskBackend(**kwargs)
    backend.add("runner", {"dch.run": "r1"})
    journal = Journal("r1")
    return backend, journal, DiskFull(journal, backend, "runner", WORK + "/", TAG, size_kb=16)


def test_inject_mounts_a_tmpfs_with_the_dirs_owner_and_fills_it_revert_unmounts() -> None:
    backend, journal, fault = make()
    with fault:
        assert backend.mounts["runner"] == [(TAG, WORK, "size=16k,mode=755,uid=0,gid=0")]
        assert fault.leftovers() == [f"runner: still mounted: {TAG} {WORK} tmpfs size=16k,mode=755,uid=0,gid=0 0 0"]
    assert backend.mounts["runner"] == []
    assert fault.leftovers() == []
    inject = journal.last("fault.inject", "ok")
    assert inject is not None and inject["path"] == WORK and inject["write_1_byte"] == "28 ENOSPC"
    assert inject["free_bytes_during"] == 0 and "inject_ms" in inject and "mount_ms" in inject
    timing = journal.last("fault.timing", "info")
    assert timing is not None and timing["fault_id"] == fault.fault_id and "revert_ms" in timing


def test_a_write_that_still_succeeds_is_inconclusive_and_the_mount_is_removed() -> None:
    backend, journal, fault = make(write_errno="0")
    with pytest.raises(Inconclusive, match="did not take effect"), fault:
        pass
    assert backend.mounts["runner"] == []
    assert journal.last("fault.inject", "fail") is not None


def test_a_failed_mount_is_inconclusive_and_nothing_is_unmounted() -> None:
    backend, _, fault = make()
    original = backend.mntns_exec
    seen: list[list[str]] = []

    def refuse_mount(name: str, argv: list[str]) -> tuple[int, str]:
        seen.append(argv)
        return (32, "mount: permission denied") if argv[0] == "mount" else original(name, argv)

    backend.mntns_exec = refuse_mount  # type: ignore[method-assign]
    with pytest.raises(Inconclusive, match="permission denied"), fault:
        pass
    assert [argv[0] for argv in seen] == ["df", "stat", "mount", "cat"]  # the last: the leftovers check


def test_a_busy_mount_is_detached_lazily() -> None:
    backend, _, fault = make()
    original = backend.mntns_exec
    seen: list[list[str]] = []

    def busy(name: str, argv: list[str]) -> tuple[int, str]:
        seen.append(argv)
        if argv == ["umount", WORK]:
            return 32, "umount: /runner/work: target is busy."
        if argv == ["umount", "-l", WORK]:
            return original(name, ["umount", WORK])
        return original(name, argv)

    backend.mntns_exec = busy  # type: ignore[method-assign]
    with fault:
        pass
    assert ["umount", "-l", WORK] in seen and backend.mounts["runner"] == []


def test_a_mount_that_stays_is_a_leftover() -> None:
    backend, _, fault = make()
    original = backend.mntns_exec
    backend.mntns_exec = lambda name, argv: (  # type: ignore[method-assign]
        (0, "") if argv[0] == "umount" else original(name, argv)
    )
    with pytest.raises(FaultRevertFailed, match="still mounted"), fault:
        pass


# --- for real -------------------------------------------------------------------------------------------


@pytest.mark.docker
def test_the_runner_work_dir_fills_and_comes_back_with_its_contents(runner: tuple[DockerBackend, str]) -> None:
    backend, name = runner
    assert backend.exec(name, ["sh", "-c", f"echo kept > {WORK}/job.log"])[0] == 0
    journal = Journal("docker-test")
    write = ["cp", "/etc/hostname", f"{WORK}/new.txt"]
    with DiskFull(journal, backend, name, WORK, f"dch-{uuid.uuid4().hex[:6]}-diskfull") as fault:
        code, out = backend.exec(name, write)
        assert code != 0 and "No space left on device" in out  # as a job's step would see it
        assert backend.exec(name, ["test", "-e", f"{WORK}/job.log"])[0] == 1  # hidden, not deleted
        assert backend.exec(name, ["stat", "-c", "%a %u", WORK])[1].split() == ["755", "0"]
    assert fault.leftovers() == []
    assert backend.exec(name, ["cat", f"{WORK}/job.log"])[1].strip() == "kept"
    assert backend.exec(name, write)[0] == 0
    inject, timing = journal.last("fault.inject", "ok"), journal.last("fault.timing", "info")
    assert inject is not None and timing is not None
    assert inject["free_bytes_before"] > 10**6 and inject["free_bytes_during"] == 0
    assert inject["write_1_byte"] == "28 ENOSPC"
    assert timing["free_bytes_after"] > 10**6
    print(
        f"disk_full: inject {inject['inject_ms']} ms (mount {inject['mount_ms']} ms), "
        f"effect check {inject['effect_check_ms']} ms, revert {timing['revert_ms']} ms"
    )
