"""prod-db's postgres exporter in the topology: the pipeline's queries go in, readiness waits for it (no Docker)."""

from __future__ import annotations

import shutil
from pathlib import Path

import yaml

from harness.core.journal import Journal
from harness.core.pipeline_source import PipelineSource
from harness.core.profiles import load_profile
from harness.topology.docker_topology import (
    DB_EXPORTER_QUERIES,
    DB_EXPORTER_TARGET,
    DEPLOY_LOCK_SELECTOR,
    DockerTopology,
    _runner_target,
)
from harness.topology.fake import FakeContainerBackend

ROOT = Path(__file__).resolve().parents[2]


def topology(pipeline: Path) -> DockerTopology:
    return DockerTopology(
        images={},
        pipeline=PipelineSource(pipeline),
        profile=load_profile("nightly", ROOT / "profiles"),
        journal=Journal("t"),
        run_id="t",
        backend=FakeContainerBackend(),  # type: ignore[arg-type]
    )


def copy_pipeline(tmp_path: Path) -> Path:
    target = tmp_path / "pipeline"
    shutil.copytree(ROOT / "pipeline", target, ignore=shutil.ignore_patterns("variants", "__pycache__"))
    return target


def test_the_reference_pipeline_has_exporter_queries_and_scrapes_the_exporter() -> None:
    topo = topology(ROOT / "pipeline")
    assert DB_EXPORTER_QUERIES in topo.pipeline.files()
    assert topo.scrapes_db_exporter()
    queries = yaml.safe_load((ROOT / "pipeline" / DB_EXPORTER_QUERIES).read_text())
    metrics = {
        name: usage
        for m in queries["deploy_lock"]["metrics"]
        for name, usage in ((k, v["usage"]) for k, v in m.items())
    }
    assert metrics["txn_id"] == "LABEL" and metrics["open"] == "GAUGE"  # deploy_lock_open{txn_id=...}
    assert DEPLOY_LOCK_SELECTOR.startswith("deploy_lock_open{")


def test_a_pipeline_without_the_exporter_job_is_not_waited_for(tmp_path: Path) -> None:
    pipeline = copy_pipeline(tmp_path)
    config = yaml.safe_load((pipeline / "monitoring/prometheus.yml").read_text())
    config["scrape_configs"] = [j for j in config["scrape_configs"] if j["job_name"] != "production-db"]
    (pipeline / "monitoring/prometheus.yml").write_text(yaml.safe_dump(config))
    assert not topology(pipeline).scrapes_db_exporter()


def test_the_exporter_target_does_not_count_as_a_runner() -> None:
    assert not _runner_target({"labels": {"instance": DB_EXPORTER_TARGET, "job": "production-db"}, "health": "up"})
    assert _runner_target({"labels": {"instance": "runner-primary:9102", "job": "github-runners"}, "health": "up"})
