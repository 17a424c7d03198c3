"""The production stand-in's containers as the topology configures them (no Docker needed)."""

from __future__ import annotations

import dataclasses
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.core.journal import Journal
from harness.core.pipeline_source import PipelineSource
from harness.core.profiles import load_profile
from harness.topology.docker_topology import (
    DB_ENV_PATH,
    DEPLOY_ENV_PATH,
    TOOLS_DIR,
    WEB_HOSTS,
    DockerTopology,
)
from harness.topology.fake import FakeContainerBackend
from harness.topology.ssh_material import make_ssh_material

ROOT = Path(__file__).resolve().parents[2]
IMAGES = dict.fromkeys(["proddb", "prodcache", "prodhost", "prodlb", "artifacts"], "dch/x:1")


@pytest.fixture(autouse=True)
def no_engine(monkeypatch: pytest.MonkeyPatch) -> None:
    """testcontainers connects to the engine when a container is declared; these tests only
    read the declarations, so they must pass on a machine with no engine running."""
    monkeypatch.setattr("testcontainers.core.container.DockerClient", lambda **_: object())


def pipeline_with_tools(tmp_path: Path) -> PipelineSource:
    """A copy of the reference pipeline with two host-side tools under production/."""
    root = tmp_path / "pipeline"
    shutil.copytree(ROOT / "pipeline", root, ignore=shutil.ignore_patterns("variants"))
    (root / "production" / "lib").mkdir(parents=True, exist_ok=True)
    (root / "production" / "app-watchdog").write_text("#!/bin/sh\nexit 0\n")
    (root / "production" / "lib" / "txn.sh").write_text("# sourced\n")
    return PipelineSource(root)


def topology(pipeline: PipelineSource, tmp_path: Path) -> DockerTopology:
    topo = DockerTopology(
        images=IMAGES,
        pipeline=pipeline,
        profile=load_profile("nightly", ROOT / "profiles"),
        journal=Journal("t"),
        run_id="t",
        backend=FakeContainerBackend(),  # type: ignore[arg-type]
    )
    topo.ssh = make_ssh_material(tmp_path / "ssh", list(WEB_HOSTS), "t")
    topo._network = object()  # type: ignore[assignment]  # only stored by with_network
    return topo


def copies(container: object) -> dict[str, tuple[bytes, int]]:
    return {dest: (data, mode) for data, dest, mode in container._transferable_specs}  # type: ignore[attr-defined]


def test_every_production_component_with_its_published_ports(tmp_path: Path) -> None:
    components = topology(pipeline_with_tools(tmp_path), tmp_path)._production_components()
    assert set(components) == {"prod-db", "prod-cache", "prod-web-1", "prod-web-2", "prod-lb", "artifacts"}
    ports = {name: sorted(c.ports) for name, c in components.items()}
    assert ports == {
        "prod-db": ["5432/tcp"],
        "prod-cache": [],
        "prod-web-1": ["80/tcp", "8080/tcp"],
        "prod-web-2": ["80/tcp", "8080/tcp"],
        "prod-lb": ["80/tcp"],
        "artifacts": ["8000/tcp"],
    }
    assert all(bind == ("127.0.0.1",) for c in components.values() for bind in c.ports.values())


def test_both_web_hosts_get_the_ssh_material_db_env_and_the_pipelines_tools(tmp_path: Path) -> None:
    topo = topology(pipeline_with_tools(tmp_path), tmp_path)
    components = topo._production_components()
    for host in WEB_HOSTS:
        files = copies(components[host])
        assert files[DB_ENV_PATH] == (topo.db_env(), 0o640)
        assert files[f"{TOOLS_DIR}/app-watchdog"] == (b"#!/bin/sh\nexit 0\n", 0o755)
        assert files[f"{TOOLS_DIR}/lib/txn.sh"][1] == 0o755
        assert files["/etc/ssh/dch/host_ed25519"][1] == 0o600
        assert {"/etc/ssh/dch/user_ca.pub", "/etc/ssh/dch/host_ed25519-cert.pub"} <= set(files)
    queries = (ROOT / "pipeline/monitoring/postgres-exporter/queries.yaml").read_bytes()
    assert copies(components["prod-db"]) == {
        "/etc/dch/db_password": (topo.db_password.encode(), 0o600),
        # the pipeline's queries of prod-db's postgres exporter (readable by its own user)
        "/etc/dch/postgres-exporter/queries.yaml": (queries, 0o644),
    }


def test_a_pipeline_without_production_tools_copies_none(tmp_path: Path) -> None:
    topo = topology(PipelineSource(ROOT / "pipeline"), tmp_path)
    expected = {
        rel.removeprefix("production/")
        for rel in PipelineSource(ROOT / "pipeline").files()
        if rel.startswith("production/")
    }
    assert set(topo.production_tools()) == expected  # today's reference may or may not have any


def test_db_env_is_the_apps_configuration_with_this_runs_password(tmp_path: Path) -> None:
    topo = topology(PipelineSource(ROOT / "pipeline"), tmp_path)
    lines = topo.db_env().decode().splitlines()
    assert lines == [
        "PGHOST=prod-db",
        "PGPORT=5432",
        "PGDATABASE=app",
        "PGUSER=app",
        f"PGPASSWORD={topo.db_password}",
        "REDIS_HOST=prod-cache",
    ]


def test_the_db_password_is_new_for_every_run_and_safe_for_the_db_entrypoint(tmp_path: Path) -> None:
    passwords = {topology(PipelineSource(ROOT / "pipeline"), tmp_path / str(i)).db_password for i in range(5)}
    assert len(passwords) == 5
    # docker/proddb/entrypoint.sh refuses anything else (it goes into an SQL string literal)
    assert all(re.fullmatch(r"[A-Za-z0-9_-]{16,}", p) for p in passwords)


def test_the_host_certificate_names_both_web_hosts(tmp_path: Path) -> None:
    topo = topology(PipelineSource(ROOT / "pipeline"), tmp_path)
    assert topo.ssh is not None
    listing = subprocess.run(
        ["ssh-keygen", "-L", "-f", str(topo.ssh.host_cert_path)], capture_output=True, text=True, check=True
    ).stdout
    principals = listing.split("Principals:", 1)[1].split("Critical Options:", 1)[0].split()
    assert principals == list(WEB_HOSTS)
    assert topo.ssh.known_hosts.startswith("@cert-authority * ")  # any host name the CA signed


def test_deploy_env_carries_the_profiles_transaction_timers(tmp_path: Path) -> None:
    topo = topology(PipelineSource(ROOT / "pipeline"), tmp_path)
    assert topo.deploy_env() == b"TXN_LEASE_S=10\nTXN_HEARTBEAT_S=2\nWATCHDOG_PERIOD_S=1\n"  # nightly
    timers = {**topo.profile.timers, "txn_lease_s": 6.0, "watchdog_period_s": 0.5}
    topo.profile = dataclasses.replace(topo.profile, timers=timers)
    assert topo.deploy_env() == b"TXN_LEASE_S=6\nTXN_HEARTBEAT_S=2\nWATCHDOG_PERIOD_S=0.5\n"
    for host in WEB_HOSTS:
        assert copies(topo._production_components()[host])[DEPLOY_ENV_PATH] == (topo.deploy_env(), 0o644)
