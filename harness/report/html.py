"""Generate the HTML report from Allure results with Allure Report 3 (Node, no Java)."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from harness.core.errors import ConfigError
from harness.core.settings import project_root


def allure_cli(root: Path | None = None) -> list[str]:
    """The command that runs the project's pinned Allure 3 CLI, installing it with npm once."""
    root = root or project_root()
    binary = root / "node_modules" / ".bin" / "allure"
    if not binary.exists():
        if shutil.which("npm") is None:
            raise ConfigError(
                "the HTML report needs Node.js and npm (Allure Report 3 is an npm package). "
                "Fix: `apt-get install nodejs npm`, then re-run."
            )
        proc = subprocess.run(
            ["npm", "ci", "--no-audit", "--no-fund", "--loglevel=error"], cwd=root, capture_output=True, text=True
        )
        if proc.returncode != 0:
            raise ConfigError(f"`npm ci` (installs Allure Report 3) failed: {proc.stderr.strip()[-500:]}")
    return [str(binary)]


def generate_html(results: Path, output: Path, name: str = "Deploy pipeline validation") -> Path:
    """Render `results` (allure-results) into a single-file HTML report under `output`; return its index."""
    if not results.is_dir() or not any(results.iterdir()):
        raise ConfigError(f"no Allure results in {results}: run the scenarios first")
    shutil.rmtree(output, ignore_errors=True)
    config = project_root() / "allurerc.mjs"
    cmd = [*allure_cli(), "generate", str(results), "--output", str(output), "--config", str(config), "--name", name]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0:
        raise ConfigError(f"Allure report generation failed: {(proc.stdout + proc.stderr).strip()[-800:]}")
    index = output / "index.html"
    if not index.exists():
        found = sorted(output.rglob("*.html"))
        if not found:
            raise ConfigError(f"Allure wrote no HTML under {output}: {proc.stdout[-400:]}")
        index = found[0]
    return index
