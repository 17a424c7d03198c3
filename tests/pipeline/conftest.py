"""Fixtures of the pipeline's own tests: a throwaway PostgreSQL server and fake web hosts (no Docker)."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.pipeline.fake_host import ArtifactStore, FakeHost, PgCluster, find_pg_bin

PG_MISSING = (
    "PostgreSQL's server binaries (initdb, pg_ctl) or psql are not installed, so the host tools cannot be "
    "tested against a real server. Install them with `apt-get install -y postgresql-15` (Debian 12)."
)


def reap_stale_clusters(bin_dir: Path) -> None:
    """Stop and remove the clusters of earlier test sessions that ended without their teardown
    (killed): a cluster whose owning test process is gone. Another live session's is left alone."""
    for folder in Path(tempfile.gettempdir()).glob("dch-pg-*"):
        try:
            owner = int((folder / "owner.pid").read_text())
        except (OSError, ValueError):
            continue
        if Path(f"/proc/{owner}").exists():
            continue
        PgCluster(folder, bin_dir).stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def pg_cluster() -> Iterator[PgCluster]:
    """One PostgreSQL server for the session (Unix socket, trust), in a folder its user can reach."""
    bin_dir = find_pg_bin()
    if bin_dir is None or shutil.which("psql") is None:
        # CI (.ci/run) installs PostgreSQL and sets DCH_REQUIRE_HOST_TOOLS: there a missing server fails
        # these tests instead of skipping them; elsewhere they are skipped, saying how to install it
        if os.environ.get("DCH_REQUIRE_HOST_TOOLS") == "1":
            pytest.fail(PG_MISSING)
        pytest.skip(PG_MISSING)
    reap_stale_clusters(bin_dir)
    folder = Path(tempfile.mkdtemp(prefix="dch-pg-"))
    (folder / "owner.pid").write_text(f"{os.getpid()}\n")  # whose cluster it is, for reap_stale_clusters
    cluster = PgCluster(folder, bin_dir)
    try:
        cluster.start()
        yield cluster
    finally:
        cluster.stop()
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture
def app_db(pg_cluster: PgCluster) -> str:
    """A fresh database `app` would be: schema_state = 1.0.0 and release 1.0.0's table."""
    name = f"app_{uuid.uuid4().hex[:10]}"
    pg_cluster.new_database(name)
    return name


@pytest.fixture
def make_host(tmp_path: Path, pg_cluster: PgCluster, app_db: str) -> Iterator[Callable[..., FakeHost]]:
    """make_host(name, start=True, **deploy_env): a fake web host on the test's database."""
    hosts: list[FakeHost] = []

    def make(name: str, start: bool = True, release: str = "1.0.0", **settings: str) -> FakeHost:
        host = FakeHost(tmp_path / name, name, pg_cluster, app_db, release, **settings)
        hosts.append(host)
        if start:
            host.start()
        return host

    try:
        yield make
    finally:
        for host in hosts:
            host.stop()


@pytest.fixture(scope="session")
def artifact_store() -> Iterator[ArtifactStore]:
    store = ArtifactStore()
    try:
        yield store
    finally:
        store.stop()
