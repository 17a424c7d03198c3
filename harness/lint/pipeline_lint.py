"""Lint a pipeline under test (the reference or a variant) with every tool at once; one finding a line."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from harness.core.errors import ConfigError, HarnessError
from harness.core.pipeline_source import PipelineSource
from harness.lint import actionlint, ansible, promtool, shellcheck
from harness.lint.findings import Finding
from harness.lint.tree import LintTree, materialise


@dataclass(frozen=True)
class Linter:
    """A tool and what it checks: `lint` returns its findings, or raises HarnessError (e.g. ToolMissing)."""

    name: str
    checks: str
    lint: Callable[[LintTree], list[Finding]]


LINTERS: tuple[Linter, ...] = (
    Linter(actionlint.TOOL, "GitHub Actions workflows and their run: scripts", actionlint.lint),
    Linter(shellcheck.TOOL, "shell scripts", shellcheck.lint),
    Linter(promtool.TOOL, "Prometheus rules and their unit tests", promtool.lint),
    Linter(ansible.TOOL, "Ansible playbooks (--syntax-check)", ansible.lint),
)
TOOL_NAMES = tuple(linter.name for linter in LINTERS)


@dataclass(frozen=True)
class LintReport:
    """What linting one pipeline found: findings against the pipeline, and errors of the harness (missing tools)."""

    label: str
    tools: tuple[str, ...]
    findings: tuple[Finding, ...]
    errors: tuple[str, ...]
    seconds: float

    def summary(self) -> str:
        """One line: what was linted, with what, what came of it and how long it took."""
        return (
            f"pipeline lint ({self.label}; {', '.join(self.tools)}): {len(self.findings)} finding(s), "
            f"{len(self.errors)} tool error(s) in {self.seconds:.1f} s"
        )


def lint_pipeline(source: PipelineSource, tools: Sequence[str] | None = None) -> LintReport:
    """Run the chosen tools (default all) on `source` concurrently; findings sorted by file, line and column."""
    unknown = sorted(set(tools or ()) - set(TOOL_NAMES))
    if unknown:
        raise ConfigError(f"unknown lint tool(s) {', '.join(unknown)}. Fix: choose among {', '.join(TOOL_NAMES)}")
    chosen = [linter for linter in LINTERS if tools is None or linter.name in tools]
    started = time.monotonic()
    findings: list[Finding] = []
    errors: list[str] = []
    with materialise(source) as tree, ThreadPoolExecutor(max_workers=len(chosen) or 1) as pool:
        futures = [pool.submit(linter.lint, tree) for linter in chosen]
        for future in futures:
            try:
                findings += future.result()
            except HarnessError as exc:
                errors.append(str(exc))
    return LintReport(
        label=f"{source.root}, {source.label}",
        tools=tuple(linter.name for linter in chosen),
        findings=tuple(sorted(set(findings))),
        errors=tuple(errors),
        seconds=time.monotonic() - started,
    )
