"""harness/cli/commands.py without Docker: `recheck` on journals recorded on a FakeEnvironment, `images`, `--help`."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from fixtures.environment import ScenarioState
from harness.bootstrap.images import image_tags
from harness.cli.commands import EXIT_FINDINGS, EXIT_INCONCLUSIVE, EXIT_USAGE, main, outcome_code
from harness.core.errors import Inconclusive
from harness.core.types import Role
from harness.topology.fake_environment import FakeEnvironment
from steps import deploy_steps, runner_steps

FAST = {"runner_ready_timeout_s": 0.3, "unhealthy_detection_timeout_s": 0.5, "deploy_timeout_s": 0.5}


@contextlib.contextmanager
def scenario(path: Path, name: str) -> Iterator[ScenarioState]:
    """A scenario on a fake environment journalling to `path`; faults are reverted at the end."""
    env = FakeEnvironment(journal_path=path, budgets=FAST).with_runner("primary").with_runner("secondary")
    env.with_production_version("1.0.0")
    with env, contextlib.ExitStack() as stack:
        yield ScenarioState.begin(env, name, stack)


def record_failover(path: Path) -> Path:
    """Primary offline, deploy lands on the secondary 50+ ms after the primary was seen down: 4 passed verdicts."""
    with scenario(path, "primary offline") as state:
        runner_steps.healthy_runners(state)
        runner_steps.runner_goes_offline(state, Role.PRIMARY)
        deploy_steps.deploy_triggered(state, "1.1.0")
        time.sleep(0.05)
        state.env.complete_deploy(state.run_id, role="secondary")  # type: ignore[attr-defined]
        runner_steps.deploy_runs_on_secondary(state)
        deploy_steps.production_reports_version(state, "1.1.0")
        deploy_steps.state_file_records(state, "1.1.0", Role.SECONDARY)
    return path


def record_inconclusive(path: Path) -> Path:
    """A check asked without the observation it needs (no baseline): recorded inconclusive."""
    with scenario(path, "no baseline") as state, pytest.raises(Inconclusive):
        deploy_steps.production_unchanged(state)
    return path


def test_recheck_exits_0_when_every_verdict_passes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    journal = record_failover(tmp_path / "journal.jsonl")

    assert main(["recheck", str(journal)]) == 0

    out, err = capsys.readouterr()
    lines = out.splitlines()
    assert lines[0] == "primary offline:"
    assert [line.split()[:2] for line in lines[1:]] == [
        ["passed", "failover"],
        ["passed", "deployed"],
        ["passed", "state_file"],
    ]
    assert "[failover_budget_s=30.0]" in lines[1]
    assert err == "3 of 3 verdicts reproduced exactly; 0 changed verdict\n"


def test_recheck_with_a_tighter_budget_exits_1_with_the_finding(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    journal = record_failover(tmp_path / "journal.jsonl")

    assert main(["recheck", str(journal), "--budget", "failover_budget_s=0.01"]) == EXIT_FINDINGS

    out, err = capsys.readouterr()
    assert "  failed       failover" in out
    assert "[failover_budget_s=0.01]" in out
    [changed] = [line for line in out.splitlines() if line.startswith("changed:")]
    assert changed.startswith("changed: primary offline failover: recorded passed, now failed: failover took ")
    assert "over the 0.01 s budget" in changed
    assert err == "2 of 3 verdicts reproduced exactly; 1 changed verdict\n"


def test_recheck_of_one_check_only(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    journal = record_failover(tmp_path / "journal.jsonl")
    assert main(["recheck", str(journal), "--check", "deployed", "--budget", "failover_budget_s=0.01"]) == 0
    out, _ = capsys.readouterr()
    assert [line.split()[1] for line in out.splitlines()[1:]] == ["deployed"]


def test_recheck_exits_2_when_a_verdict_is_inconclusive(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    journal = record_inconclusive(tmp_path / "journal.jsonl")

    assert main(["recheck", str(journal)]) == EXIT_INCONCLUSIVE

    out, _ = capsys.readouterr()
    assert out.splitlines() == ["no baseline:", f"  {'inconclusive':<12} {'unchanged':<18} "]


def test_recheck_of_a_journal_without_verdicts_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "journal.jsonl"
    FakeEnvironment(journal_path=path).production_state()
    assert main(["recheck", str(path)]) == EXIT_INCONCLUSIVE
    assert capsys.readouterr().err == f"deploy-chaos: {path} holds no verdict\n"


@pytest.mark.parametrize("content", [None, "not json\n", '{"op": "x", "seq": 0}\n'], ids=["missing", "text", "foreign"])
def test_recheck_of_a_bad_journal_exits_3_with_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str | None
) -> None:
    path = tmp_path / "journal.jsonl"
    if content is not None:
        path.write_text(content)

    assert main(["recheck", str(path)]) == EXIT_USAGE

    out, err = capsys.readouterr()
    assert out == ""
    assert len(err.splitlines()) == 1
    assert err.startswith("deploy-chaos: error: ")
    assert str(path) in err
    assert "Traceback" not in err


def test_a_malformed_budget_is_a_usage_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["recheck", str(tmp_path / "j.jsonl"), "--budget", "failover_budget_s"])
    assert exited.value.code == EXIT_USAGE
    err = capsys.readouterr().err
    assert "is not NAME=SECONDS" in err and len(err.splitlines()) == 1 and "Fix: see" in err


def test_images_prints_each_image_and_its_tag(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["images"]) == 0
    out = capsys.readouterr().out
    tags = image_tags()
    assert tags
    assert out.splitlines() == [f"{name}\t{tag}" for name, tag in tags.items()]


def test_help_lists_the_commands(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main(["--help"])
    assert exited.value.code == 0
    out = capsys.readouterr().out
    assert out.startswith("usage: deploy-chaos")
    for command in ("setup", "run", "test", "report", "cleanup", "recheck", "images", "list", "doctor"):
        assert command in out


def test_a_command_is_required(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exited:
        main([])
    assert exited.value.code == EXIT_USAGE
    assert "required" in capsys.readouterr().err


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["run", "--profile", "nightlly"], "unknown profile 'nightlly'"),
        (["run", "--variant", "no-such-variant"], "unknown pipeline variant 'no-such-variant'"),
        (["run", "--pipeline", "/no/such/folder"], "--pipeline /no/such/folder: no such folder"),
    ],
)
def test_run_inputs_are_checked_before_anything_starts(
    argv: list[str], message: str, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("harness.cli.commands._setup", lambda **_: pytest.fail("setup must not start on bad input"))
    assert main(argv) == EXIT_USAGE
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and message in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("pytest_code", "outcome", "expected"),
    [
        (0, None, 0),
        (1, {"findings": 2, "inconclusive": 1}, 1),
        (1, {"findings": 0, "inconclusive": 1}, 2),
        (1, None, 2),
        (2, {"findings": 1}, 130),
        (4, None, 3),
    ],
)
def test_exit_codes_tell_findings_from_inconclusive_from_bad_input(
    pytest_code: int, outcome: dict[str, int] | None, expected: int
) -> None:
    assert outcome_code(pytest_code, outcome) == expected


def test_cleanup_without_an_engine_exits_2_with_one_line(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    monkeypatch.setenv("DOCKER_HOST", f"tcp://127.0.0.1:{port}")
    assert main(["cleanup"]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("deploy-chaos: error: no Docker engine answers") and "\n" not in err
    assert "Traceback" not in err
