"""harness.lint.tools: tools from the virtualenv first, then PATH; a missing one is one line with a Fix."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

from harness.core.errors import HarnessError
from harness.lint import tools
from harness.lint.tools import ToolMissing, find_tool, run_tool, venv_bin


def executable(folder: Path, name: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text("#!/bin/sh\nexit 0\n")
    path.chmod(0o755)
    return path


def test_the_virtualenv_wins_over_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    venv, elsewhere = tmp_path / "venv", tmp_path / "path"
    local, _ = executable(venv, "sometool"), executable(elsewhere, "sometool")
    monkeypatch.setattr(tools, "venv_bin", lambda: venv)
    monkeypatch.setenv("PATH", str(elsewhere))
    assert find_tool("sometool", "does things", "install it") == str(local)
    local.unlink()
    assert find_tool("sometool", "does things", "install it") == str(elsewhere / "sometool")


def test_a_missing_tool_says_what_where_and_fix(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(tools, "venv_bin", lambda: tmp_path)
    monkeypatch.setenv("PATH", str(tmp_path))
    with pytest.raises(ToolMissing) as caught:
        find_tool("promtool", "checks the alert rules", "apt-get install prometheus")
    message = str(caught.value)
    assert message == (
        f"promtool not found (checks the alert rules) in {tmp_path} or on PATH. Fix: apt-get install prometheus"
    )
    assert isinstance(caught.value, HarnessError) and "\n" not in message


def test_venv_bin_is_the_running_pythons_folder() -> None:
    assert venv_bin() == Path(sys.executable).parent


def test_a_hung_tool_is_a_harness_error_naming_it(tmp_path: Path) -> None:
    with pytest.raises(HarnessError, match=r"^sleep did not finish in 0 s .*Fix: run it by hand: sleep 5"):
        run_tool(["sleep", "5"], tmp_path, timeout_s=0.2)
