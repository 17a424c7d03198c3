"""A harness SIGKILLed mid-fault, for real: the next harness's sweep replays its undo log, then removes its run.

A child process (the "harness") starts two labelled containers of the runner image, enters a NetworkPartition
(iptables DROP in the runner's netns), a DiskFull (tmpfs over the work dir) and a RunnerOffline (pause) with
an undo log, says READY and is SIGKILLed. The faults outlive it; the sweep, as DockerTopology.start runs it,
must find the run dead, undo every fault (seen in the containers just before their removal) and remove them.

Other harnesses on this machine sweep dead runs too, at every topology start; so that none of them races this
test to its run, the child names a PID namespace of its own in its owner labels (the others cannot judge such
a run: never theirs to sweep), and this test judges owners as if it lived in that namespace (so it sweeps only
runs labelled that way, never another harness's).
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import uuid
from pathlib import Path

import pytest
from docker.errors import ImageNotFound, NotFound

from harness.bootstrap.images import image_tags
from harness.core.journal import Journal
from harness.core.pipeline_source import PipelineSource
from harness.core.profiles import load_profile
from harness.faults.undo import UndoLog
from harness.topology.backend import LABEL_RUN, DockerBackend
from harness.topology.cleanup import LABEL_OWNER_PIDNS, owner_labels
from harness.topology.docker_topology import DockerTopology

ROOT = Path(__file__).resolve().parents[2]
WORK = "/runner/work"

CHILD = r"""
import sys, time
from pathlib import Path

from harness.core.journal import Journal
from harness.faults.disk_full import DiskFull
from harness.faults.partition import NetworkPartition
from harness.faults.runner_offline import RunnerOffline
from harness.faults.undo import UndoLog
from harness.topology.backend import LABEL_MANAGED, LABEL_RUN, DockerBackend
from harness.topology.cleanup import LABEL_OWNER_PIDNS, owner_labels

run, image, journal_path, work, pidns = sys.argv[1], sys.argv[2], Path(sys.argv[3]), sys.argv[4], sys.argv[5]
backend = DockerBackend()
labels = {LABEL_MANAGED: "true", LABEL_RUN: run, **owner_labels(), LABEL_OWNER_PIDNS: pidns}
peer, runner = f"dch-{run}-peer", f"dch-{run}-runner"
backend.client.containers.run(image, ["python3", "-m", "http.server", "8000"], name=peer, detach=True, labels=labels)
backend.client.containers.run(image, ["sleep", "infinity"], name=runner, detach=True, labels=labels)
probe = ["curl", "-sS", "-m", "2", "-o", "/dev/null", f"http://{backend.ip_address(peer)}:8000/"]
deadline = time.monotonic() + 30
while backend.exec(runner, probe)[0] != 0:  # the peer answers before the partition, so cutting it means something
    assert time.monotonic() < deadline, "the peer never answered"
    time.sleep(0.2)
journal, undo = Journal(run, journal_path), UndoLog.for_run(run)  # reports/undo under DCH_REPORTS_DIR
NetworkPartition(journal, backend, runner, peer, "peer", probe, tag=f"dch-{run}-partition", undo=undo).__enter__()
DiskFull(journal, backend, runner, work, f"dch-{run}-diskfull", undo=undo).__enter__()
RunnerOffline(journal, backend, runner, "primary", undo=undo).__enter__()
print("READY", flush=True)
time.sleep(3600)
"""


def runner_image(backend: DockerBackend) -> str:
    """The runner image of this checkout, or else the newest one built (harness/github, which it copies, may
    be changing under a working tree; any runner image has what the child needs: python3, curl, mount)."""
    tag = image_tags(ROOT)["runner"]
    try:
        backend.client.images.get(tag)
        return tag
    except ImageNotFound:
        built = sorted(backend.client.images.list(tag.split(":")[0]), key=lambda i: i.attrs["Created"])
        assert built, f"no runner image ({tag}). Fix: ./bin/deploy-chaos setup"
        return str(built[-1].tags[0])


class Watching(DockerBackend):
    """A DockerBackend that looks at each container just before removing it: status, tagged rules and mounts."""

    def __init__(self, tag: str) -> None:
        super().__init__()
        self.tag = tag
        self.seen: dict[str, dict[str, object]] = {}

    def remove_container(self, container_id: str) -> None:
        try:
            container = self.client.containers.get(container_id)
        except NotFound:  # someone else removed it first: nothing was seen
            return
        seen: dict[str, object] = {"status": container.status}
        if container.status in ("running", "paused"):
            seen["rules"] = [
                r for r in self.netns_exec(container_id, ["iptables", "-S"])[1].splitlines() if self.tag in r
            ]
            seen["mounts"] = [
                m for m in self.mntns_exec(container_id, ["cat", "/proc/mounts"])[1].splitlines() if self.tag in m
            ]
        self.seen[container.name] = seen
        super().remove_container(container_id)


@pytest.mark.docker
def test_a_harness_killed_mid_fault_is_swept_with_its_faults_undone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = f"test-undo-{uuid.uuid4().hex[:6]}"
    runner, tag = f"dch-{run}-runner", f"dch-{run}-"
    monkeypatch.setenv("DCH_REPORTS_DIR", str(tmp_path))
    pidns = f"pid:[{run}]"
    here = {**owner_labels(), LABEL_OWNER_PIDNS: pidns}
    monkeypatch.setattr("harness.topology.cleanup.owner_labels", lambda: here)
    backend = DockerBackend()
    journal_path = str(tmp_path / "child-journal.jsonl")
    child = subprocess.Popen(
        [sys.executable, "-c", CHILD, run, runner_image(backend), journal_path, WORK, pidns],
        cwd=ROOT,
        env={**os.environ, "DCH_REPORTS_DIR": str(tmp_path), "PYTHONPATH": str(ROOT)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    watchdog = threading.Timer(180, child.kill)
    watchdog.start()
    try:
        assert child.stdout is not None and child.stderr is not None
        ready = child.stdout.readline().strip()
        assert ready == "READY", f"the child harness did not get its faults in place: {child.stderr.read()[-2000:]}"
        child.kill()  # SIGKILL: no revert, no atexit, no finally
        child.wait()
        pending = UndoLog.for_run(run).pending()
        assert [e["fault"] for e in pending] == ["network_partition", "disk_full", "runner_offline"]
        assert backend.status(runner) == "paused"  # the faults outlived their harness
        assert any(tag in rule for rule in backend.netns_exec(runner, ["iptables", "-S"])[1].splitlines())

        watching = Watching(tag)
        journal = Journal("next-harness")
        topology = DockerTopology(
            images={},
            pipeline=PipelineSource(ROOT / "pipeline"),
            profile=load_profile("nightly", ROOT / "profiles"),
            journal=journal,
            run_id="next-harness",
            backend=watching,
        )
        topology._sweep_dead_runs()  # what DockerTopology.start does first

        [swept] = [e for e in journal.entries("topology.swept") if e["swept_run"] == run]
        assert swept["owner_pid"] == str(child.pid) and swept["reason"] == "not running"
        assert sorted(swept["undone"]) == sorted(e["fault_id"] for e in pending)
        assert swept["not_undone"] == [] and swept["failed"] == []
        assert sorted(swept["removed"]) == sorted([runner, f"dch-{run}-peer"])
        assert watching.seen[runner] == {"status": "running", "rules": [], "mounts": []}  # undone, then removed
        assert backend.list_containers({LABEL_RUN: run}) == []
        assert UndoLog.for_run(run).pending() == []
        print(f"swept: {swept['reason']}; undone {swept['undone']}; removed {swept['removed']}")
    finally:
        watchdog.cancel()
        if child.poll() is None:
            child.kill()
            child.wait()
        for container in backend.list_containers({LABEL_RUN: run}):
            backend.remove_container(container.id)
        backend.client.close()
