"""The pipeline's shell scripts (and their variants') are shellcheck-clean."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest

from harness.core.pipeline_source import PipelineSource

PIPELINE = Path(__file__).resolve().parents[2] / "pipeline"
SCRIPTS = sorted(PIPELINE.glob("scripts/*.sh"))
VARIANT_SCRIPTS = sorted(PIPELINE.glob("variants/*/scripts/*.sh"))

# CI (.ci/run) installs shellcheck and sets DCH_REQUIRE_HOST_TOOLS=1: there a missing shellcheck fails
# (shellcheck() below raises) instead of skipping
pytestmark = pytest.mark.skipif(
    shutil.which("shellcheck") is None and os.environ.get("DCH_REQUIRE_HOST_TOOLS") != "1",
    reason="shellcheck is not installed (apt-get install -y shellcheck)",
)


def shellcheck(*paths: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["shellcheck", "--shell=bash", "--severity=style", *map(str, paths)],
        capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def test_the_reference_scripts_are_clean() -> None:
    assert SCRIPTS, "no scripts found"
    proc = shellcheck(*SCRIPTS)
    assert proc.returncode == 0, proc.stdout


@pytest.mark.parametrize("script", VARIANT_SCRIPTS, ids=lambda p: p.relative_to(PIPELINE / "variants").as_posix())
def test_variant_scripts_are_clean(script: Path) -> None:
    """A negative control must fail for its planted defect, never for a shell mistake."""
    proc = shellcheck(script)
    assert proc.returncode == 0, proc.stdout


def test_every_script_of_the_pipeline_is_checked() -> None:
    shell = [rel for rel in PipelineSource(PIPELINE).files() if rel.endswith(".sh")]
    assert sorted(shell) == sorted(p.relative_to(PIPELINE).as_posix() for p in SCRIPTS)
