"""Disk full: writes under a directory of a container (e.g. the runner's work dir) fail with ENOSPC.

Filling the filesystem that really holds the directory is not an option: in a container it is the
overlay on the host's disk (tens of GB, shared with every other container). Instead a small tmpfs
is mounted over the directory and filled to 100 %. A container's root has no CAP_SYS_ADMIN, so the
mount is made from the host, with `nsenter` into the container's mount namespace (the harness runs
as root on the engine's host). Unmounting it brings back what the directory held before: the
original contents are hidden, never touched, while the fault is in place (so is any file a job had
there: it reappears on revert).
"""

from __future__ import annotations

import shlex
import time
from typing import Any

from harness.core.journal import Journal
from harness.faults.base import Fault
from harness.faults.undo import Action, UndoLog, command_op
from harness.topology.backend import ContainerBackend

# Inside the container (its own root, no extra privileges): write one byte, report the errno (0 = it worked).
WRITE_ONE_BYTE = """
import errno, os, sys
path = sys.argv[1]
try:
    with open(path, "wb") as f:
        f.write(b"x")
    code = 0
except OSError as exc:
    code = exc.errno or -1
try:
    os.unlink(path)  # creating the (empty) file itself succeeds on a full tmpfs: leave nothing behind
except OSError:
    pass
print(code, errno.errorcode.get(code, ""))
"""


class DiskFull(Fault):
    """Mount a `size_kb` tmpfs over `path` in `container` and fill it; a 1-byte write there then gets ENOSPC."""

    name = "disk_full"

    def __init__(
        self,
        journal: Journal,
        backend: ContainerBackend,
        container: str,
        path: str,
        tag: str,
        size_kb: int = 64,
        *,
        undo: UndoLog | None = None,
    ) -> None:
        super().__init__(journal, undo)
        if not path.startswith("/") or path.rstrip("/") == "":
            raise ValueError(f"disk_full needs an absolute directory other than /, not {path!r}")
        self.backend, self.container, self.path, self.tag = backend, container, path.rstrip("/"), tag
        self.size_kb = size_kb
        self.filler = f"{self.path}/.{tag}-filler"
        self.measured: dict[str, Any] = {}
        self._mounted = False

    def describe(self) -> dict[str, Any]:
        """Where, how, and what was measured so far (free bytes before / during, timings)."""
        return {
            "container": self.container,
            "path": self.path,
            "mode": "tmpfs over the path, filled to 100 %",
            "size_bytes": self.size_kb * 1024,
            **self.measured,
        }

    def undo_actions(self) -> list[Action]:
        """The tmpfs stays mounted (and full) after the harness dies: unmount it, only if this fault's mount is
        there (its source is the tag; never unmount what the container had on the path itself)."""
        path, mount = shlex.quote(self.path), shlex.quote(f"{self.tag} {self.path} ")
        script = (
            f"grep -qF -- {mount} /proc/mounts || exit 0; rm -f {shlex.quote(self.filler)}; "
            f"umount {path} 2>/dev/null || umount -l {path}"
        )
        return [command_op("mntns_exec", self.container, ["sh", "-c", script])]

    def _sh(self, argv: list[str], what: str) -> str:
        code, out = self.backend.mntns_exec(self.container, argv)
        if code != 0:
            raise RuntimeError(f"{what} failed in {self.container}: {out.strip()}")
        return out

    def _free_bytes(self) -> int:
        """Bytes available under the path (df, in the container's mount namespace)."""
        out = self._sh(["df", "-B1", "--output=avail", self.path], f"df {self.path}")
        return int(out.split()[-1])

    def _our_mounts(self) -> list[str]:
        """Lines of the container's mount table that are this fault's tmpfs (its source names the tag)."""
        out = self._sh(["cat", "/proc/mounts"], "reading the mount table")
        return [line for line in out.splitlines() if line.split()[:2] == [self.tag, self.path]]

    def inject(self) -> None:
        """Mount the tmpfs with the directory's owner and mode, then fill it (fallocate of what df says is free)."""
        self.measured["free_bytes_before"] = self._free_bytes()
        # keep owner and mode, or a job running as another user would fail with EACCES, not ENOSPC
        mode, uid, gid = self._sh(["stat", "-c", "%a %u %g", self.path], f"stat {self.path}").split()
        started = time.monotonic()
        options = f"size={self.size_kb}k,mode={mode},uid={uid},gid={gid}"
        self._sh(["mount", "-t", "tmpfs", "-o", options, self.tag, self.path], f"mounting a tmpfs on {self.path}")
        self._mounted = True
        mounted = time.monotonic()
        # Filled from the host's side of nsenter: the tmpfs pages are charged to the harness's cgroup, not
        # to the container's, so a disk-full fault does not also eat the container's memory limit.
        self._sh(["fallocate", "-l", str(self._free_bytes()), self.filler], "filling the tmpfs")
        self.measured["mount_ms"] = round((mounted - started) * 1000, 1)
        self.measured["inject_ms"] = round((time.monotonic() - started) * 1000, 1)

    def took_effect(self) -> bool:
        """Nothing is free, and a process of the container writing 1 byte under the path gets ENOSPC."""
        started = time.monotonic()
        self.measured["free_bytes_during"] = self._free_bytes()
        probe = f"{self.path}/.{self.tag}-probe"
        code, out = self.backend.exec(self.container, ["python3", "-c", WRITE_ONE_BYTE, probe], timeout_s=10)
        self.measured["write_1_byte"] = out.strip() if code == 0 else f"probe exited {code}: {out.strip()}"
        self.measured["effect_check_ms"] = round((time.monotonic() - started) * 1000, 1)
        return code == 0 and out.split()[:2] == ["28", "ENOSPC"] and self.measured["free_bytes_during"] == 0

    def revert(self) -> None:
        """Delete the filler and unmount this fault's tmpfs (lazily if a process still holds a file there)."""
        if not self._mounted:
            return
        if self.backend.status(self.container) not in ("running", "paused"):
            self._mounted = False  # no process left in the mount namespace: the kernel dropped the tmpfs with it
            return
        started = time.monotonic()
        if self._our_mounts():
            self.backend.mntns_exec(self.container, ["rm", "-f", self.filler])
            code, out = self.backend.mntns_exec(self.container, ["umount", self.path])
            if code != 0:
                # EBUSY: a process has its cwd or an open file on the tmpfs; detach it now, the kernel frees it
                # when the last user lets go, and the directory shows its original contents at once
                self._sh(["umount", "-l", self.path], f"umount -l {self.path} (after: {out.strip()})")
        self._mounted = False
        revert_ms = round((time.monotonic() - started) * 1000, 1)
        self.measured["free_bytes_after"] = self._free_bytes()
        self.journal_revert_time(
            None,
            revert_ms=revert_ms,
            free_bytes_after=self.measured["free_bytes_after"],
        )

    def leftovers(self) -> list[str]:
        """This fault's tmpfs still mounted in the container."""
        if self.backend.status(self.container) not in ("running", "paused"):
            return []  # the mount namespace went away with the container's processes
        return [f"{self.container}: still mounted: {line}" for line in self._our_mounts()]
