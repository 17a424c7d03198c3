"""The layers keep their promises: checkers and reporting never reach the environment; steps never judge."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
ENVIRONMENT_REACHING = ("httpx", "docker", "harness.drivers", "harness.topology", "harness.actions", "harness.faults")


def imports(path: Path) -> set[str]:
    """Every module `path` imports (absolute names)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.module:
            found.add(node.module)
    return found


def offending(path: Path, forbidden: tuple[str, ...]) -> list[str]:
    return sorted(m for m in imports(path) if any(m == f or m.startswith(f + ".") for f in forbidden))


@pytest.mark.parametrize("path", sorted((ROOT / "harness" / "checks").glob("*.py")), ids=lambda p: p.name)
def test_no_checker_imports_an_http_or_docker_client(path: Path) -> None:
    assert offending(path, (*ENVIRONMENT_REACHING, "allure", "harness.report")) == []


@pytest.mark.parametrize("path", sorted((ROOT / "harness" / "report").glob("*.py")), ids=lambda p: p.name)
def test_reporting_makes_no_network_calls(path: Path) -> None:
    assert offending(path, ENVIRONMENT_REACHING) == []


@pytest.mark.parametrize("path", sorted((ROOT / "steps").glob("*.py")), ids=lambda p: p.name)
def test_no_step_raises_a_finding_or_asserts(path: Path) -> None:
    tree = ast.parse(path.read_text())
    names = {n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | {
        n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)
    }
    assert "PipelineFinding" not in names, "steps act and record; findings come from judge()"
    assert not [n for n in ast.walk(tree) if isinstance(n, ast.Assert)], (
        "an assert in a step would report a harness problem as a pipeline failure"
    )
    assert offending(path, ("harness.checks.registry", "harness.checks.history")) == []


def test_the_probe_of_this_test_sees_forbidden_imports(tmp_path: Path) -> None:
    sample = tmp_path / "sample.py"
    sample.write_text("import httpx\nfrom harness.drivers.github import GitHubClient\nfrom harness.core import types\n")
    assert offending(sample, ENVIRONMENT_REACHING) == ["harness.drivers.github", "httpx"]
