"""The topology hands Prometheus the pipeline's own scrape config and rules, only timers changed."""

from __future__ import annotations

from pathlib import Path

import yaml

from harness.core.journal import Journal
from harness.core.pipeline_source import PipelineSource
from harness.core.profiles import load_profile
from harness.topology.docker_topology import DockerTopology
from harness.topology.fake import FakeContainerBackend

ROOT = Path(__file__).resolve().parents[2]


def topology(profile: str) -> DockerTopology:
    return DockerTopology(
        images={},
        pipeline=PipelineSource(ROOT / "pipeline"),
        profile=load_profile(profile, ROOT / "profiles"),
        journal=Journal("t"),
        run_id="t",
        backend=FakeContainerBackend(),  # type: ignore[arg-type]
    )


def test_nightly_timers_replace_production_ones_and_targets_stay() -> None:
    files = topology("nightly")._prometheus_files()
    config = yaml.safe_load(files["/etc/dch/prometheus.yml"])
    assert config["global"] == {"scrape_interval": "1s", "scrape_timeout": "1s", "evaluation_interval": "1s"}
    original = yaml.safe_load((ROOT / "pipeline/monitoring/prometheus.yml").read_text())
    assert config["scrape_configs"] == original["scrape_configs"]
    assert config["rule_files"] == ["/etc/dch/rules/*.yml"]


def test_rules_are_copied_verbatim() -> None:
    files = topology("maintenance-window")._prometheus_files()
    rules = ROOT / "pipeline/monitoring/rules/runner-alerts.yml"
    assert files["/etc/dch/rules/runner-alerts.yml"] == rules.read_bytes()
    config = yaml.safe_load(files["/etc/dch/prometheus.yml"])
    assert config["global"]["scrape_interval"] == "15s"
