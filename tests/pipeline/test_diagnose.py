"""pipeline/scripts/diagnose.sh: classify a failed deploy's output (pipeline spec, US2 "Failure classification").

The script runs with bash as a subprocess; the job summary and step outputs go to temporary files named by
GITHUB_STEP_SUMMARY and GITHUB_OUTPUT, the annotation to stdout.
"""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

PIPELINE = Path(__file__).resolve().parents[2] / "pipeline"
SCRIPT = PIPELINE / "scripts" / "diagnose.sh"
NETWORK_RUNBOOK = "runbooks/runner-network-unreachable.md"
AUTH_RUNBOOK = "runbooks/secrets-expired-rotation.md"


@dataclass
class Diagnosis:
    returncode: int
    stdout: str
    stderr: str
    summary: str
    outputs: str

    def row(self, field: str) -> str:
        """The value of the summary table's `| field | value |` row (exactly one such row)."""
        found = re.findall(rf"^\| {re.escape(field)} \| (.*) \|$", self.summary, re.MULTILINE)
        assert len(found) == 1, f"expected one {field!r} row in the summary, got {found}:\n{self.summary}"
        return found[0]

    def output(self, name: str) -> str:
        found = [line.split("=", 1)[1] for line in self.outputs.splitlines() if line.startswith(f"{name}=")]
        assert len(found) == 1, f"expected one {name}= line in GITHUB_OUTPUT, got {found}"
        return found[0]


def diagnose(tmp_path: Path, log_text: str | None) -> Diagnosis:
    """Run diagnose.sh on a log holding `log_text` (None: the log file does not exist)."""
    workspace = tmp_path / "workspace"
    workspace.mkdir(exist_ok=True)
    log = workspace / "output.log"
    if log_text is not None:
        log.write_text(log_text)
    summary, outputs = tmp_path / "summary.md", tmp_path / "output.txt"
    summary.write_text("")
    outputs.write_text("")
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(outputs),
        "RUNNER_NAME": "runner-x",
        "GITHUB_WORKSPACE": str(workspace),
    }
    proc = subprocess.run(
        ["bash", str(SCRIPT), str(log)],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        env=env,
        cwd=workspace,
        timeout=30,
    )
    return Diagnosis(proc.returncode, proc.stdout, proc.stderr, summary.read_text(), outputs.read_text())


# (log text, class, severity, runbook or None when the spec does not name one)
CASES = [
    ("ssh: connect to host x port 22: Connection refused", "network_connectivity", "critical", NETWORK_RUNBOOK),
    ("ssh: connect to host x port 22: Connection timed out", "network_connectivity", "critical", NETWORK_RUNBOOK),
    ("ssh: connect to host x port 22: No route to host", "network_connectivity", "critical", NETWORK_RUNBOOK),
    ("deploy@x: Permission denied (publickey).", "authentication", "critical", AUTH_RUNBOOK),
    (
        "authentication failure: deploy certificate expired at 2026-01-01T00:00:00 UTC",
        "authentication",
        "critical",
        AUTH_RUNBOOK,
    ),
    ("registry login: invalid credentials", "authentication", "critical", AUTH_RUNBOOK),
    ("tar: write error: No space left on device", "disk_space", "critical", None),
    ("node[42]: Out of memory: Killed process 42", "memory_exhaustion", "critical", None),
    ("fork: Cannot allocate memory", "memory_exhaustion", "critical", None),
    ("health check: operation timeout after 60s", "timeout", "high", None),
    ("something else broke", "unknown", "high", None),
]


def check_report(result: Diagnosis, klass: str, severity: str, runbook: str | None) -> None:
    assert result.returncode == 0, result.stderr
    assert result.row("class") == klass
    assert result.row("severity") == severity
    assert result.row("runner") == "runner-x"
    runbook_row = result.row("runbook")
    if runbook is not None:
        assert runbook_row == runbook
    assert re.fullmatch(r"runbooks/[a-z0-9-]+\.md", runbook_row)
    assert (PIPELINE / runbook_row).is_file(), f"the summary names {runbook_row}, which does not exist"
    assert re.fullmatch(r"\d{1,3}%", result.row("memory used"))
    assert re.fullmatch(r"\d{1,3}%", result.row("disk used"))
    assert re.fullmatch(r"\d+(\.\d+)?", result.row("load (1 min)"))
    assert f"## Deploy failure: {klass} ({severity})" in result.summary
    assert result.output("class") == klass
    assert result.output("severity") == severity
    errors = [line for line in result.stdout.splitlines() if line.startswith("::error")]
    assert len(errors) == 1, result.stdout
    assert klass in errors[0] and severity in errors[0] and runbook_row in errors[0]
    assert "runner-x" in errors[0]


@pytest.mark.parametrize(("text", "klass", "severity", "runbook"), CASES, ids=[c[0][:40] for c in CASES])
def test_each_spec_class_is_classified_with_severity_runner_resources_and_runbook(
    tmp_path: Path, text: str, klass: str, severity: str, runbook: str | None
) -> None:
    check_report(diagnose(tmp_path, text), klass, severity, runbook)


def test_class_is_found_among_other_output_lines(tmp_path: Path) -> None:
    log = (
        "Run bash scripts/deploy.sh 1.4.2\ndeploying 1.4.2 to prod-web-1\n"
        "ssh: connect to host prod-web-1 port 22: No route to host\nError: Process completed with exit code 1.\n"
    )
    check_report(diagnose(tmp_path, log), "network_connectivity", "critical", NETWORK_RUNBOOK)


def test_missing_log_file_is_unknown_high(tmp_path: Path) -> None:
    result = diagnose(tmp_path, None)
    check_report(result, "unknown", "high", None)


def test_empty_log_is_unknown_high(tmp_path: Path) -> None:
    check_report(diagnose(tmp_path, ""), "unknown", "high", None)


@pytest.mark.parametrize(
    ("text", "klass", "runbook"),
    [
        ("deploy@x: PERMISSION DENIED (PUBLICKEY).", "authentication", AUTH_RUNBOOK),
        ("Authentication Failure: Deploy Certificate Expired", "authentication", AUTH_RUNBOOK),
        ("ssh: connect to host x port 22: CONNECTION REFUSED", "network_connectivity", NETWORK_RUNBOOK),
        ("NO SPACE LEFT ON DEVICE", "disk_space", None),
        ("OUT OF MEMORY", "memory_exhaustion", None),
    ],
)
def test_classification_ignores_case(tmp_path: Path, text: str, klass: str, runbook: str | None) -> None:
    check_report(diagnose(tmp_path, text), klass, "critical", runbook)


def test_every_runbook_the_script_can_name_exists() -> None:
    names = set(re.findall(r"runbook=([A-Za-z0-9_-]+)", SCRIPT.read_text()))
    assert {"runner-network-unreachable", "secrets-expired-rotation"} <= names
    missing = sorted(name for name in names if not (PIPELINE / "runbooks" / f"{name}.md").is_file())
    assert missing == [], f"diagnose.sh names runbooks that do not exist: {missing}"


def test_summary_is_appended_not_overwritten(tmp_path: Path) -> None:
    (tmp_path / "workspace").mkdir()
    first = diagnose(tmp_path, "No space left on device")
    assert first.row("class") == "disk_space"
    # a second diagnosis in the same job appends a second table rather than replacing the first
    summary = tmp_path / "summary.md"
    before = summary.read_text()
    env = {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "GITHUB_STEP_SUMMARY": str(summary),
        "GITHUB_OUTPUT": str(tmp_path / "output.txt"),
        "RUNNER_NAME": "runner-x",
        "GITHUB_WORKSPACE": str(tmp_path / "workspace"),
    }
    log = tmp_path / "second.log"
    log.write_text("Connection refused")
    subprocess.run(
        ["bash", str(SCRIPT), str(log)], stdin=subprocess.DEVNULL, capture_output=True, env=env, check=True, timeout=30
    )
    after = summary.read_text()
    assert after.startswith(before)
    assert "| class | network_connectivity |" in after[len(before) :]
