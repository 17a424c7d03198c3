"""BrokenRelease with a fake backend whose exec runs touch/test/rm against a set of (container, path)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pytest

from harness.core.errors import Inconclusive
from harness.core.journal import Journal
from harness.faults.broken_release import MARKER_DIR, BrokenRelease
from harness.topology.fake import FakeContainerBackend

HOSTS = ["web-1", "web-2"]


class FilesBackend(FakeContainerBackend):
    """exec understands touch, test -e and rm -f on an in-memory set of (container, path)."""

    def __init__(self, touch_works_on: Sequence[str] = HOSTS) -> None:
        super().__init__()
        self.files: set[tuple[str, str]] = set()
        self.touch_works_on = set(touch_works_on)

    def exec(self, name: str, argv: list[str], timeout_s: float = 10.0) -> tuple[int, str]:
        self.calls.append(("exec", f"{name}: {' '.join(argv)}"))
        if argv[0] == "touch":
            if name in self.touch_works_on:
                self.files.add((name, argv[1]))
            return 0, ""
        if argv[:2] == ["test", "-e"]:
            return (0, "") if (name, argv[2]) in self.files else (1, "")
        if argv[:2] == ["rm", "-f"]:
            self.files.discard((name, argv[2]))
            return 0, ""
        return 127, "unknown"

    def report(self) -> Mapping[str, list[str] | None]:
        """What each host's backend would answer at GET /_faults."""
        return {h: [p.rsplit("/", 1)[1] for c, p in sorted(self.files) if c == h] for h in HOSTS}


def test_marks_every_host_and_unmarks_them() -> None:
    backend = FilesBackend()
    fault = BrokenRelease(Journal("t"), backend, HOSTS, "4.0.0", reported=backend.report)
    with fault:
        assert backend.files == {(h, f"{MARKER_DIR}/4.0.0") for h in HOSTS}
    assert backend.files == set()
    assert fault.leftovers() == []


def test_a_host_where_the_marker_does_not_stick_is_inconclusive() -> None:
    backend = FilesBackend(touch_works_on=["web-1"])
    fault = BrokenRelease(Journal("t"), backend, HOSTS, "4.0.0")
    with pytest.raises(Inconclusive, match="did not take effect"), fault:
        pass
    assert backend.files == set()  # reverted on every host all the same


def test_a_backend_that_does_not_report_the_release_broken_is_inconclusive() -> None:
    backend = FilesBackend()
    reports = {"web-1": ["4.0.0"], "web-2": None}  # web-2's backend did not answer
    with (
        pytest.raises(Inconclusive, match="did not take effect"),
        BrokenRelease(Journal("t"), backend, HOSTS, "4.0.0", reported=lambda: reports),
    ):
        pass


def test_leftovers_name_each_host_still_marked() -> None:
    backend = FilesBackend()
    fault = BrokenRelease(Journal("t"), backend, HOSTS, "4.0.0")
    backend.files.add(("web-2", f"{MARKER_DIR}/4.0.0"))
    assert fault.leftovers() == [f"web-2:{MARKER_DIR}/4.0.0"]


def test_describe_names_version_and_hosts() -> None:
    assert BrokenRelease(Journal("t"), FilesBackend(), HOSTS, "4.0.0").describe() == {
        "version": "4.0.0",
        "containers": HOSTS,
    }
