"""Benchmark: what content-hash image caching and parallel container starts buy.

Prints ratios, not pass/fail: `.venv/bin/python bench/bench_setup.py`. Needs the engine and
images (`bin/deploy-chaos setup`). Results are appended to reports/bench/setup.jsonl.

1. cached setup (every tag found) vs a no-cache rebuild of one image (prodhost);
2. topology start with components started in parallel vs one after another;
3. topology start (to ready: production healthy at its first release, runners online and scraped,
   Prometheus connected to Alertmanager) vs its floor: the same containers (images, commands,
   environment, files, network aliases) started with plain parallel `docker create` + copy +
   `docker start`, timed to all running, every published port answering, and Prometheus having
   scraped every target (issue 6's target: within 2x).

`--only floor` runs the third alone (about a minute).
"""

from __future__ import annotations

import io
import json
import socket
import sys
import tempfile
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from unittest import mock

import docker
import httpx
from testcontainers.core.transferable import build_transfer_tar

from harness.bootstrap.base_image import base_tag
from harness.bootstrap.images import _stage_context, build_images
from harness.bootstrap.manifest import load_manifest
from harness.bootstrap.progress import Progress
from harness.core.journal import Journal
from harness.core.pipeline_source import PipelineSource
from harness.core.profiles import load_profile
from harness.core.settings import project_root, reports_dir
from harness.topology.docker_topology import WEB_HOSTS, DockerTopology
from harness.topology.ssh_material import make_ssh_material


def time_it(fn: Callable[[], object]) -> float:
    """Wall-clock seconds of one call."""
    start = time.monotonic()
    fn()
    return time.monotonic() - start


def bench_image_cache(client: docker.DockerClient, root: Path) -> dict[str, float]:
    """Seconds for a fully cached setup vs a from-scratch build of the prodhost image."""
    build_images(client, Progress(stream=io.StringIO()))  # make sure everything exists first
    cached = time_it(lambda: build_images(client, Progress(stream=io.StringIO())))
    manifest = load_manifest(root)
    spec = manifest.image("prodhost")

    def rebuild() -> None:
        with tempfile.TemporaryDirectory() as tmp:
            _stage_context(spec, root, Path(tmp))
            for _ in client.api.build(
                path=tmp,
                tag="dch/bench-prodhost:nocache",
                nocache=True,
                rm=True,
                forcerm=True,
                decode=True,
                buildargs={"BASE_IMAGE": base_tag(manifest.base)},
            ):
                pass
        client.images.remove("dch/bench-prodhost:nocache", force=True)

    cold = time_it(rebuild)
    return {
        "cached_setup_s": round(cached, 2),
        "one_image_nocache_build_s": round(cold, 2),
        "ratio_rebuild_over_cached": round(cold / max(cached, 1e-3), 1),
    }


def bench_topology_start(client: docker.DockerClient, root: Path) -> dict[str, float]:
    """Seconds to a ready topology, components started in parallel vs sequentially."""
    images = {k: v.tag for k, v in build_images(client, Progress(stream=io.StringIO())).items()}
    profile = load_profile("nightly", root / "profiles")
    pipeline = PipelineSource(root / "pipeline")

    def start_stop() -> float:
        topo = DockerTopology(images, pipeline, profile, Journal("bench"))
        seconds = time_it(topo.start)
        topo.stop()
        return seconds

    parallel = start_stop()

    class Sequential(ThreadPoolExecutor):
        def __init__(self, *args: object, **kwargs: object) -> None:
            super().__init__(max_workers=1)

    with mock.patch("harness.topology.docker_topology.ThreadPoolExecutor", Sequential):
        sequential = start_stop()
    return {
        "topology_parallel_s": round(parallel, 2),
        "topology_sequential_s": round(sequential, 2),
        "ratio_sequential_over_parallel": round(sequential / parallel, 2),
    }


FLOOR_TIMEOUT_S = 90.0


@dataclass
class FloorTimes:
    """Seconds from the first `docker run` of the floor to each of its milestones."""

    containers: int
    running_s: float  # every container running
    answering_s: float  # ... and every published port of every container accepts a TCP connection
    scraped_s: float  # ... and the floor's Prometheus has scraped every one of its targets


def _answers(ip: str, port: int) -> bool:
    try:
        with socket.create_connection((ip, port), timeout=0.5):
            return True
    except OSError:
        return False


def _all_targets_up(prometheus_ip: str) -> bool:
    try:
        body = httpx.get(f"http://{prometheus_ip}:9090/api/v1/targets", timeout=1).json()
    except (httpx.HTTPError, ValueError):
        return False
    active = body.get("data", {}).get("activeTargets", [])
    return bool(active) and all(t.get("health") == "up" for t in active)


def _plain_docker_run(client: docker.DockerClient, topo: DockerTopology) -> FloorTimes:
    """The topology's containers (same images, commands, environment and files) with plain parallel
    `docker create` + copy + `docker start`, timed to three milestones: all running, every published
    port answering, and Prometheus having scraped every target (the part a 5 s discovery throttle
    in Prometheus itself dominates: its first scrape never comes sooner)."""
    topo.ssh = make_ssh_material(Path(topo._tmp.name) / "ssh", list(WEB_HOSTS), topo.run_id)
    network = client.networks.create(f"dch-floor-{topo.run_id}", labels=topo.labels)
    topo._network = object()  # type: ignore[assignment]  # only stored while the containers are declared
    specs = topo._components()
    started: dict[str, docker.models.containers.Container] = {}

    def run(name: str) -> None:
        spec = specs[name]
        aliases = list(spec._network_aliases or [name])  # the names the components call each other by
        container = client.containers.create(
            spec.image,
            spec._command,
            name=f"dch-floor-{topo.run_id}-{name}",
            environment=dict(spec.env),
            labels=topo.labels,
            init=True,
            network=network.name,
            networking_config={network.name: client.api.create_endpoint_config(aliases=aliases)},
        )
        started[name] = container
        for transferable, destination, mode in spec._transferable_specs:
            container.put_archive("/", build_transfer_tar(transferable, destination, mode))
        container.start()
        while container.status != "running":
            container.reload()
            if container.status == "exited":
                raise RuntimeError(f"floor container {name} exited: {container.logs(tail=10)!r}")
            time.sleep(0.02)

    def ip(name: str) -> str:
        started[name].reload()
        return str(started[name].attrs["NetworkSettings"]["Networks"][network.name]["IPAddress"])

    try:
        start = time.monotonic()
        with ThreadPoolExecutor(max_workers=len(specs)) as pool:
            list(pool.map(run, specs))
        running = time.monotonic() - start
        probes = [(ip(name), int(port.split("/")[0])) for name, spec in specs.items() for port in spec.ports]
        deadline = start + FLOOR_TIMEOUT_S
        while not all(_answers(*probe) for probe in probes):
            if time.monotonic() > deadline:
                raise RuntimeError(f"floor: not every port answered within {FLOOR_TIMEOUT_S:g} s: {probes}")
            time.sleep(0.05)
        answering = time.monotonic() - start
        prometheus_ip = ip("prometheus")
        while not _all_targets_up(prometheus_ip):
            if time.monotonic() > deadline:
                raise RuntimeError(f"floor: Prometheus had not scraped every target within {FLOOR_TIMEOUT_S:g} s")
            time.sleep(0.05)
        scraped = time.monotonic() - start
        return FloorTimes(len(specs), running, answering, scraped)
    finally:
        for container in started.values():
            container.remove(force=True)
        network.remove()


def bench_topology_floor(client: docker.DockerClient, root: Path) -> dict[str, float]:
    """Seconds to a ready topology vs plain parallel `docker run` of the same containers, in one run."""
    images = {k: v.tag for k, v in build_images(client, Progress(stream=io.StringIO())).items()}
    profile = load_profile("nightly", root / "profiles")
    pipeline = PipelineSource(root / "pipeline")
    floor = _plain_docker_run(client, DockerTopology(images, pipeline, profile, Journal("bench")))
    topo = DockerTopology(images, pipeline, profile, Journal("bench"))
    try:
        seconds = time_it(topo.start)
    finally:
        topo.stop()
    return {
        "containers": floor.containers,
        "topology_ready_s": round(seconds, 2),
        "plain_docker_run_s": round(floor.running_s, 2),
        "plain_docker_run_answering_s": round(floor.answering_s, 2),
        "plain_docker_run_scraped_s": round(floor.scraped_s, 2),
        "ratio_topology_over_docker_run": round(seconds / floor.running_s, 2),
        "ratio_topology_over_answering": round(seconds / floor.answering_s, 2),
        "ratio_topology_over_scraped": round(seconds / floor.scraped_s, 2),
    }


def main() -> None:
    """Run the benchmarks (or `--only floor`) and print their ratios."""
    root = project_root()
    client = docker.from_env(timeout=600)
    result: dict[str, object] = {"ts": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    if sys.argv[1:] != ["--only", "floor"]:
        result |= bench_image_cache(client, root)
        result |= bench_topology_start(client, root)
    result |= bench_topology_floor(client, root)
    out = reports_dir() / "bench" / "setup.jsonl"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("a") as fh:
        fh.write(json.dumps(result) + "\n")
    for key, value in result.items():
        print(f"{key:36} {value}")


if __name__ == "__main__":
    main()
