"""shellcheck over the pipeline's shell scripts (as tests/pipeline/test_shellcheck.py runs it)."""

from __future__ import annotations

import json

from harness.lint.findings import Finding
from harness.lint.tools import find_tool, run_tool, tool_failed
from harness.lint.tree import LintTree

TOOL = "shellcheck"


def lint(tree: LintTree) -> list[Finding]:
    """shellcheck's findings (style and up, as bash) in every `.sh` file of the pipeline."""
    binary = find_tool(TOOL, "checks the pipeline's shell scripts", "apt-get install shellcheck")
    scripts = sorted(rel for rel in tree.origin if rel.endswith(".sh"))
    if not scripts:
        return []
    proc = run_tool([binary, "--shell=bash", "--severity=style", "--format=json1", *scripts], tree.root)
    try:
        comments = json.loads(proc.stdout)["comments"]
    except (ValueError, KeyError):
        raise tool_failed(proc, TOOL) from None
    return [
        tree.finding(TOOL, c["file"], c["line"], c["column"], f"SC{c['code']} ({c['level']}): {c['message']}")
        for c in comments
    ]
