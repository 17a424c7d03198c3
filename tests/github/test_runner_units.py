"""Runner-side pure pieces: file commands, masking, workflow commands, tarballs, process control."""

from __future__ import annotations

import os
import time
from pathlib import Path

import pytest

from harness.github.filecommands import FileCommandError, parse_key_values
from harness.github.masking import Masker
from harness.github.process import run_process
from harness.github.tarballs import make_tarball, normalize_upload, safe_extract
from harness.github.workflowcmds import parse_command


def test_github_output_key_value_and_heredoc() -> None:
    text = "a=1\nb=x=y\nnotes<<EOF\nline 1\nline=2\nEOF\n\nc=\n"
    assert parse_key_values(text) == {"a": "1", "b": "x=y", "notes": "line 1\nline=2", "c": ""}


def test_github_output_errors() -> None:
    with pytest.raises(FileCommandError, match="delimiter"):
        parse_key_values("k<<EOF\nno end\n")
    with pytest.raises(FileCommandError, match="invalid line"):
        parse_key_values("just text\n")


def test_masker_masks_each_line_of_multiline_secrets() -> None:
    key = "-----BEGIN KEY-----\nAAAAsecretline1\nBBBBsecretline2\n-----END KEY-----"
    masker = Masker([key, "pw", "hunter22"])
    assert masker.mask("token hunter22 ok") == "token *** ok"
    assert masker.mask("BBBBsecretline2") == "***"
    assert masker.mask(key) == "***"
    assert masker.mask("pw stays: too short") == "pw stays: too short"
    masker.add("late-mask")
    assert masker.mask("x late-mask y") == "x *** y"


def test_workflow_commands() -> None:
    assert parse_command("plain output") is None
    command = parse_command("::add-mask::s3cr3t")
    assert command is not None and (command.name, command.message) == ("add-mask", "s3cr3t")
    command = parse_command("::error file=a.py,line=3::bad%0Athing")
    assert command is not None and command.params == {"file": "a.py", "line": "3"}
    assert command.message == "bad\nthing"


def test_tarball_normalised_to_github_layout(tmp_path: Path) -> None:
    data = make_tarball({".github/workflows/ci.yml": "on: push", "src/app.py": "print(1)"}, top="whatever")
    archive = normalize_upload("acme", "app", data)
    assert list(archive.workflows) == [".github/workflows/ci.yml"]
    count = safe_extract(archive.tarball, str(tmp_path), strip_components=1)
    assert count == 2
    assert (tmp_path / "src" / "app.py").read_text() == "print(1)"


def test_tarball_rejects_escaping_paths(tmp_path: Path) -> None:
    data = make_tarball({"top/../../evil": "x"})
    safe_extract(data, str(tmp_path / "dest"), strip_components=0)
    assert not (tmp_path / "evil").exists()


def test_process_stdin_is_closed_and_output_streamed(tmp_path: Path) -> None:
    lines: list[str] = []
    result = run_process(
        ["bash", "-c", "echo start; if read x; then echo got; else echo EOF; fi; echo err >&2"],
        cwd=str(tmp_path),
        env=os.environ,
        on_line=lines.append,
        timeout_s=10,
    )
    assert result.ok and lines == ["start", "EOF", "err"]


def test_process_timeout_kills_the_group(tmp_path: Path) -> None:
    marker = tmp_path / "child-survived"
    started = time.monotonic()
    result = run_process(
        ["bash", "-c", f"(sleep 0.5; touch {marker}) & sleep 30"],
        cwd=str(tmp_path),
        env=os.environ,
        on_line=lambda _: None,
        timeout_s=0.2,
        kill_grace_s=0.5,
    )
    assert result.timed_out and result.exit_code is None
    assert time.monotonic() - started < 3
    time.sleep(0.8)  # the background child would have touched the marker by now
    assert not marker.exists()


def test_process_stop_request(tmp_path: Path) -> None:
    deadline = time.monotonic() + 0.3
    result = run_process(
        ["sleep", "30"],
        cwd=str(tmp_path),
        env=os.environ,
        on_line=lambda _: None,
        should_stop=lambda: "cancelled" if time.monotonic() > deadline else None,
    )
    assert result.stopped == "cancelled"
