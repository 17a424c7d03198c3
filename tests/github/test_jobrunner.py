"""JobRunner against a recording fake client: step if/outcomes, masking, failure modes."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.github.client import RunnerClient
from harness.github.jobrunner import JobRunner, RunnerSettings


class RecordingClient(RunnerClient):
    """Captures every runner call instead of sending it."""

    def __init__(self) -> None:
        super().__init__("http://unused")
        self.calls: list[tuple[str, Any]] = []
        self.lines: list[str] = []

    def renew(self, job_id: int, token: str) -> dict[str, Any]:
        return {"cancel_requested": False}

    def step_start(self, job_id: int, token: str, number: int, name: str) -> dict[str, Any]:
        self.calls.append(("start", number))
        return {}

    def step_complete(
        self, job_id: int, token: str, number: int, name: str, outcome: str, conclusion: str
    ) -> dict[str, Any]:
        self.calls.append(("complete", (number, outcome, conclusion)))
        return {}

    def logs(self, job_id: int, token: str, lines: list[dict[str, Any]]) -> dict[str, Any]:
        self.lines.extend(line["text"] for line in lines)
        return {}

    def complete(
        self,
        job_id: int,
        token: str,
        conclusion: str,
        outputs: dict[str, str],
        annotations: list[dict[str, str]],
        summary: str,
    ) -> dict[str, Any]:
        self.calls.append(("job", (conclusion, outputs, annotations)))
        return {"ok": True}


def payload(
    steps: list[dict[str, Any]], outputs: dict[str, str] | None = None, secrets: dict[str, str] | None = None
) -> dict[str, Any]:
    numbered = [{"number": i + 1, **step} for i, step in enumerate(steps)]
    return {
        "job_id": 7,
        "run_id": 1,
        "job_key": "j",
        "name": "j",
        "lease_token": "t",
        "labels": ["x"],
        "repository": "acme/app",
        "workflow_env": {"W": "1"},
        "defaults_run": {},
        "timeout_minutes": 1,
        "job": {"steps": numbered, "env": {}, "outputs": outputs or {}},
        "contexts": {
            "github": {"repository": "acme/app", "event": {}},
            "secrets": secrets or {},
            "inputs": {},
            "needs": {},
            "vars": {},
            "job": {"status": "success"},
            "runner": {"name": "r"},
        },
    }


def run_job(tmp_path: Path, data: dict[str, Any]) -> tuple[str, RecordingClient]:
    client = RecordingClient()
    settings = RunnerSettings(name="r", work_dir=str(tmp_path / "work"), lease_renew_s=30, log_interval_s=0.05)
    return JobRunner(data, client, settings).run(), client


def test_step_if_outcomes_and_outputs(tmp_path: Path) -> None:
    conclusion, client = run_job(
        tmp_path,
        payload(
            [
                {"id": "a", "run": "echo v=1 >> $GITHUB_OUTPUT; exit 1", "continue_on_error": True},
                {"run": "echo skipped", "if_": "steps.a.outcome == 'success'"},
                {"id": "b", "run": "exit 4"},
                {"run": "echo never"},
                {"run": "echo on-failure", "if_": "failure()"},
            ],
            outputs={"v": "${{ steps.a.outputs.v }}"},
        ),
    )
    assert conclusion == "failure"
    completes = [c[1] for c in client.calls if c[0] == "complete"]
    assert completes == [
        (1, "failure", "success"),
        (2, "skipped", "skipped"),
        (3, "failure", "failure"),
        (4, "skipped", "skipped"),
        (5, "success", "success"),
    ]
    assert client.calls[-1] == ("job", ("failure", {"v": "1"}, []))
    assert "on-failure" in client.lines


def test_outputs_holding_secrets_are_not_sent(tmp_path: Path) -> None:
    conclusion, client = run_job(
        tmp_path,
        payload(
            [{"id": "a", "run": 'echo "tok=${{ secrets.T }}" >> $GITHUB_OUTPUT; echo ${{ secrets.T }}'}],
            outputs={"tok": "${{ steps.a.outputs.tok }}"},
            secrets={"T": "very-secret"},
        ),
    )
    assert conclusion == "success"
    assert client.calls[-1][1][1] == {}
    assert "very-secret" not in "\n".join(client.lines) and "***" in client.lines


def test_unusable_work_dir_fails_the_job_instead_of_the_agent(tmp_path: Path) -> None:
    (tmp_path / "work").write_text("a file, not a directory")
    conclusion, client = run_job(tmp_path, payload([{"run": "echo hi"}]))
    assert conclusion == "failure"
    annotations = client.calls[-1][1][2]
    assert "Runner error" in annotations[0]["message"]


def test_error_annotations_and_groups(tmp_path: Path) -> None:
    conclusion, client = run_job(
        tmp_path,
        payload([{"run": "echo '::error::disk is full'; echo '::group::details'; echo inside; echo '::endgroup::'"}]),
    )
    assert conclusion == "success"
    assert client.calls[-1][1][2] == [{"level": "failure", "message": "disk is full"}]
    assert "##[error]disk is full" in client.lines and "##[group]details" in client.lines


def test_default_shell_has_no_pipefail_like_github(tmp_path: Path) -> None:
    """GitHub runs a step with no `shell` as `bash -e {0}`: a failing command piped into tee succeeds."""
    conclusion, _ = run_job(tmp_path, payload([{"run": "false | tee out.log"}]))
    assert conclusion == "success"


def test_shell_bash_adds_pipefail_like_github(tmp_path: Path) -> None:
    """`shell: bash` is `bash --noprofile --norc -eo pipefail {0}`: the same pipe fails the step."""
    conclusion, _ = run_job(tmp_path, payload([{"run": "false | tee out.log", "shell": "bash"}]))
    assert conclusion == "failure"


def test_defaults_run_shell_bash_applies(tmp_path: Path) -> None:
    data = payload([{"run": "false | tee out.log"}])
    data["defaults_run"] = {"shell": "bash"}
    conclusion, _ = run_job(tmp_path, data)
    assert conclusion == "failure"
