"""The pipeline's Prometheus config and alert rules pass promtool, and so do the rule unit tests.

Runs Debian's promtool inside the harness's prometheus image (needs `deploy-chaos setup`).
Variants' rule files are checked too, so a negative control fails for its planted defect,
never for a syntax error.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import docker
import pytest

from harness.bootstrap.images import image_tags
from harness.core.pipeline_source import PipelineSource
from harness.topology.backend import LABEL_MANAGED

ROOT = Path(__file__).resolve().parents[2]
PIPELINE = ROOT / "pipeline"
VARIANTS_WITH_RULES = sorted(p.parent.parent.name for p in PIPELINE.glob("variants/*/monitoring/rules"))


def promtool(monitoring: Path, script: str) -> tuple[int, str]:
    """Run a shell `script` with promtool in /m (the monitoring folder, read-only)."""
    client = docker.from_env()
    container = client.containers.run(
        image_tags(ROOT)["prometheus"],
        ["sh", "-c", f"cd /m && {script}"],
        detach=True,
        volumes={str(monitoring): {"bind": "/m", "mode": "ro"}},
        labels={LABEL_MANAGED: "true"},
    )
    try:
        code = container.wait(timeout=60)["StatusCode"]
        return code, container.logs().decode(errors="replace")
    finally:
        container.remove(force=True)
        client.close()


@pytest.mark.docker
def test_reference_config_rules_and_rule_unit_tests_pass() -> None:
    code, output = promtool(
        PIPELINE / "monitoring",
        "promtool check config prometheus.yml && "
        "promtool check rules rules/*.yml && "
        "promtool test rules tests/*.test.yml",
    )
    assert code == 0, output
    assert "SUCCESS" in output


@pytest.mark.docker
@pytest.mark.parametrize("variant", VARIANTS_WITH_RULES)
def test_variant_rules_are_valid_promql(variant: str, tmp_path: Path) -> None:
    monitoring = tmp_path / "monitoring"
    for rel, path in PipelineSource(PIPELINE, variant).files().items():
        if rel.startswith("monitoring/"):
            target = tmp_path / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(path, target)
    code, output = promtool(monitoring, "promtool check rules rules/*.yml")
    assert code == 0, output


def test_every_rule_file_has_unit_tests() -> None:
    tests = "\n".join(p.read_text() for p in (PIPELINE / "monitoring/tests").glob("*.test.yml"))
    for rules in (PIPELINE / "monitoring/rules").glob("*.yml"):
        assert f"../rules/{rules.name}" in tests, f"{rules.name} has no promtool unit tests"
