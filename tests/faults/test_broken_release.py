"""BrokenRelease with a fake backend whose exec runs touch/test/rm against a set of paths."""

from __future__ import annotations

import pytest

from harness.core.errors import Inconclusive
from harness.core.journal import Journal
from harness.faults.broken_release import MARKER_DIR, BrokenRelease
from harness.topology.fake import FakeContainerBackend


class FilesBackend(FakeContainerBackend):
    """exec understands touch, test -e and rm -f on an in-memory set of files."""

    def __init__(self, touch_works: bool = True) -> None:
        super().__init__()
        self.files: set[str] = set()
        self.touch_works = touch_works

    def exec(self, name: str, argv: list[str], timeout_s: float = 10.0) -> tuple[int, str]:
        self.calls.append(("exec", " ".join(argv)))
        if argv[0] == "touch":
            if self.touch_works:
                self.files.add(argv[1])
            return 0, ""
        if argv[:2] == ["test", "-e"]:
            return (0, "") if argv[2] in self.files else (1, "")
        if argv[:2] == ["rm", "-f"]:
            self.files.discard(argv[2])
            return 0, ""
        return 127, "unknown"


def test_marks_and_unmarks_the_release() -> None:
    backend = FilesBackend()
    fault = BrokenRelease(Journal("t"), backend, "prod", "4.0.0")
    with fault:
        assert backend.files == {f"{MARKER_DIR}/4.0.0"}
    assert backend.files == set()
    assert fault.leftovers() == []


def test_marker_that_does_not_stick_is_inconclusive() -> None:
    fault = BrokenRelease(Journal("t"), FilesBackend(touch_works=False), "prod", "4.0.0")
    with pytest.raises(Inconclusive, match="did not take effect"), fault:
        pass


def test_describe_names_version_and_host() -> None:
    assert BrokenRelease(Journal("t"), FilesBackend(), "prod", "4.0.0").describe() == {
        "version": "4.0.0",
        "container": "prod",
    }
