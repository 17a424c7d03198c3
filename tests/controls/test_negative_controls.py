"""Negative controls: each scenario must FAIL on a pipeline variant that has the defect it checks.

Runs the real Gherkin scenario in a child pytest against a broken variant of the pipeline
(pipeline/variants/<name>) and requires a pipeline finding: not a pass, and not an
inconclusive harness error. The reference pipeline passing the same scenario is shown by
tests/scenarios in the same test run.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

CONTROLS = [
    pytest.param(
        "no-failover",
        "tests/scenarios/test_runner_failover.py",
        "the deploy job did not start on any runner within",
        id="no-failover",
    ),
]


def run_scenarios(test_file: str, variant: str, alluredir: Path) -> subprocess.CompletedProcess[str]:
    """Run a scenario file in a child pytest against pipeline variant `variant`."""
    cmd = [sys.executable, "-m", "pytest", test_file, f"--pipeline-variant={variant}",
           f"--alluredir={alluredir}", "-p", "no:cacheprovider", "-q", "-rN"]
    return subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL)


@pytest.mark.docker
@pytest.mark.parametrize(("variant", "test_file", "expected_finding"), CONTROLS)
def test_scenario_fails_on_broken_variant(variant: str, test_file: str, expected_finding: str,
                                          tmp_path: Path) -> None:
    """The scenario reports a pipeline finding on the broken variant."""
    proc = run_scenarios(test_file, variant, tmp_path / "allure")
    output = proc.stdout + proc.stderr
    assert proc.returncode == 1, f"expected the scenario to fail on variant {variant}:\n{output[-4000:]}"
    assert "PIPELINE FINDINGS" in output, output[-4000:]
    assert expected_finding in output, output[-4000:]
    assert "INCONCLUSIVE" not in output, f"harness undecided instead of finding the defect:\n{output[-4000:]}"
