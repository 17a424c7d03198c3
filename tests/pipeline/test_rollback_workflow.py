"""pipeline/.github/workflows/rollback.yml: the same gate and the same transactional deploy as
deploy.yml (the simulated GitHub, like this pipeline, has no reusable workflows, so the jobs are
copies; this test keeps them equal), driven by scripts/deploy.sh with DEPLOY_KIND=rollback."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from harness.github.workflow import parse_workflows

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = ROOT / "pipeline" / ".github" / "workflows"


def workflow(name: str) -> dict[str, Any]:
    return dict(yaml.safe_load((WORKFLOWS / name).read_text()))


def script_step(job: dict[str, Any]) -> dict[str, Any]:
    return next(s for s in job["steps"] if "scripts/deploy.sh" in s.get("run", ""))


def test_the_rollback_reuses_the_deploys_preflight_and_health_gate_unchanged() -> None:
    deploy, rollback = workflow("deploy.yml"), workflow("rollback.yml")
    assert list(rollback["jobs"]) == list(deploy["jobs"]) == ["preflight", "select-runner", "deploy"]
    for key in ("preflight", "select-runner"):
        assert rollback["jobs"][key] == deploy["jobs"][key], f"{key} drifted from deploy.yml's"
    assert rollback["defaults"] == deploy["defaults"]


def test_the_rollback_job_is_the_deploy_job_with_the_rollback_kind_and_the_same_lock() -> None:
    deploy, rollback = workflow("deploy.yml")["jobs"]["deploy"], workflow("rollback.yml")["jobs"]["deploy"]
    for key in ("needs", "runs-on", "concurrency", "timeout-minutes"):
        assert rollback[key] == deploy[key], key
    assert rollback["concurrency"]["group"] == "production-deploy", "a rollback and a deploy never run at once"
    env = dict(script_step(rollback)["env"])
    assert env.pop("DEPLOY_KIND") == "rollback"
    assert env == script_step(deploy)["env"]
    assert script_step(rollback)["run"] == script_step(deploy)["run"]
    assert [s.get("if") for s in rollback["steps"]] == [s.get("if") for s in deploy["steps"]]


def test_the_version_to_return_to_is_optional() -> None:
    inputs = workflow("rollback.yml")[True]["workflow_dispatch"]["inputs"]  # YAML 1.1 reads `on` as true
    assert list(inputs) == ["version"]
    assert inputs["version"]["required"] is False and inputs["version"]["default"] == ""


def test_the_simulated_github_accepts_both_workflows() -> None:
    files = {f".github/workflows/{p.name}": p.read_text() for p in WORKFLOWS.glob("*.yml")}
    specs, issues = parse_workflows(files)
    assert issues == [] and ".github/workflows/rollback.yml" in specs
    assert specs[".github/workflows/rollback.yml"].inputs["version"].required is False
