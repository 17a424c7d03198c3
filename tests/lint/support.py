"""Helpers of the pipeline lint tests: the reference pipeline, a broken copy of it, and tool requirements."""

from __future__ import annotations

import os
import shutil
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.lint import actionlint, ansible, promtool
from harness.lint.tools import ToolMissing, find_tool

PIPELINE = Path(__file__).resolve().parents[2] / "pipeline"


def need(*tools: str) -> None:
    """Skip the test when a tool is missing; CI (.ci/run: DCH_REQUIRE_HOST_TOOLS=1) fails it instead."""
    for tool in tools:
        try:
            find_tool(tool, "needed by this test", fix(tool))
        except ToolMissing as exc:
            if os.environ.get("DCH_REQUIRE_HOST_TOOLS") == "1":
                pytest.fail(str(exc))
            pytest.skip(str(exc))


def fix(tool: str) -> str:
    """How to install `tool`, as the pipeline lint says it."""
    fixes = {actionlint.TOOL: actionlint.FIX, promtool.TOOL: promtool.FIX, ansible.TOOL: ansible.FIX}
    return fixes.get(tool, f"apt-get install {tool}")


def only_on_path(monkeypatch: pytest.MonkeyPatch, folder: Path, *names: str) -> None:
    """PATH is `folder`, holding links to just the host tools `names` (the virtualenv's stay found)."""
    folder.mkdir()
    for name in names:
        found = shutil.which(name)
        assert found, name
        (folder / name).symlink_to(found)
    monkeypatch.setenv("PATH", str(folder))


def line_of(path: Path, text: str, unique: bool = True) -> int:
    """1-based number of the line of `path` holding `text` (the only one, or the first)."""
    hits = [n for n, line in enumerate(path.read_text().splitlines(), 1) if text in line]
    assert len(hits) == 1 or (hits and not unique), f"{text!r} is on lines {hits} of {path}"
    return hits[0]


def plant(path: Path, old: str, new: str) -> None:
    """Replace the one occurrence of `old` in `path` by `new`."""
    text = path.read_text()
    assert text.count(old) == 1, f"{old!r} occurs {text.count(old)} times in {path}"
    path.write_text(text.replace(old, new))


@dataclass(frozen=True)
class Broken:
    """A copy of the reference pipeline with one planted defect per tool, and where each is."""

    root: Path
    workflow: Path
    workflow_line: int
    script: Path
    script_line: int
    rules: Path
    rules_line: int
    playbook: Path
    playbook_line: int


def make_broken(tmp_path: Path) -> Broken:
    """The reference pipeline (no variants) copied to tmp_path with a bad workflow key, an unquoted variable,
    a PromQL syntax error and a YAML-broken playbook."""
    root = tmp_path / "pipeline"
    shutil.copytree(PIPELINE, root, ignore=shutil.ignore_patterns("variants", "__pycache__"))
    workflow, script = root / ".github/workflows/deploy.yml", root / "scripts/select-runner.sh"
    rules, playbook = root / "monitoring/rules/runner-alerts.yml", root / "ansible/rollback.yml"
    plant(workflow, "    runs-on: ubuntu-latest\n    steps:\n      - uses: actions/checkout@v5\n      - name: Check",
          "    runs-on: ubuntu-latest\n    timeout-minute: 5\n    steps:\n      - uses: actions/checkout@v5\n"
          "      - name: Check")  # fmt: skip
    plant(script, '"$PROMETHEUS_URL/api/v1/query"', "$PROMETHEUS_URL/api/v1/query")
    plant(rules, 'absent(runner_status{authorized_for_prod="true"} == 1)', "absent(runner_status == )")
    plant(playbook, "  hosts: web\n", "  hosts: web\n    broken: [yaml\n")
    return Broken(
        root,
        workflow,
        line_of(workflow, "timeout-minute:"),
        script,
        line_of(script, "$PROMETHEUS_URL/api/v1/query"),
        rules,
        line_of(rules, "absent(runner_status == )"),
        playbook,
        line_of(playbook, "broken: [yaml"),
    )
