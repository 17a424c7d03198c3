"""Execute one job on the runner: step `if`, env, scripts, file commands, outputs, cancellation."""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import threading
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.github import expressions, filecommands, shims
from harness.github.client import HttpError, RunnerClient, TransportError
from harness.github.errors import ExpressionError
from harness.github.jobcontrol import JobControl
from harness.github.logstream import LogStreamer
from harness.github.masking import Masker
from harness.github.process import ProcessResult, run_process
from harness.github.workflowcmds import parse_command

CLEANUP_BUDGET_S = 300.0  # time allowed to each always() step that starts after the job timed out
_ANNOTATION_LEVELS = {"error": "failure", "warning": "warning", "notice": "notice"}


@dataclass(frozen=True)
class RunnerSettings:
    """What the job runner needs from the agent configuration."""

    name: str
    work_dir: str
    lease_renew_s: float = 60.0
    kill_grace_s: float = 2.5
    log_interval_s: float = 0.2
    echo: Callable[[str], None] | None = None  # also print masked log lines locally


@dataclass
class StepRun:
    """Mutable state of the step currently executing."""

    number: int
    outputs: dict[str, str] = field(default_factory=dict)
    kill_on_cancel: bool = True


class JobRunner:
    """Runs the job described by an acquire payload and reports it to the server."""

    def __init__(
        self, payload: dict[str, Any], client: RunnerClient, settings: RunnerSettings, control: JobControl | None = None
    ) -> None:
        self.payload = payload
        self.client = client
        self.settings = settings
        self.control = control or JobControl()
        self.job_id: int = payload["job_id"]
        self.token: str = payload["lease_token"]
        self.spec: dict[str, Any] = payload["job"]
        self.base_ctx: dict[str, Any] = dict(payload["contexts"])
        secrets_ctx = self.base_ctx.get("secrets") or {}
        self.masker = Masker(str(v) for v in secrets_ctx.values())
        repo_name = str(payload.get("repository", "repo/repo")).split("/")[-1]
        self.workspace = os.path.join(settings.work_dir, repo_name, repo_name)
        self.temp = os.path.join(settings.work_dir, "_temp", str(self.job_id))
        self.env_ctx: dict[str, str] = {}
        self.steps_ctx: dict[str, Any] = {}
        self.path_prefix: list[str] = []
        self.job_status = "success"
        self.failed = False
        self.timed_out = False
        self.annotations: list[dict[str, str]] = []
        self.summary: list[str] = []
        self.current: StepRun | None = None
        self.deadline = time.monotonic() + float(payload.get("timeout_minutes") or 360) * 60
        self._done = threading.Event()
        self.streamer = LogStreamer(
            lambda lines: self.client.logs(self.job_id, self.token, lines),
            self._on_reply,
            self.control.lose,
            settings.log_interval_s,
        )

    # ------------------------------------------------------------ reporting

    def _on_reply(self, reply: Any) -> None:
        if isinstance(reply, dict) and reply.get("cancel_requested"):
            self.control.request_cancel()

    def _report(self, call: Callable[[], Any], attempts: int = 5) -> None:
        self._deliver(call, lambda attempt: attempt < attempts, lambda attempt: min(0.2 * 2**attempt, 2.0))

    def _deliver(
        self, call: Callable[[], Any], keep_trying: Callable[[int], bool], pause: Callable[[int], float]
    ) -> None:
        """Send one control-plane call until it lands, the lease is lost, or `keep_trying` says stop.

        A 404/410 answer means GitHub no longer knows the job: the lease is lost. Other HTTP
        errors are final; transport errors are retried after `pause(attempt)` seconds.
        """
        attempt = 0
        while not self.control.lost and keep_trying(attempt):
            try:
                self._on_reply(call())
                return
            except HttpError as exc:
                if exc.status in (404, 410):
                    self.control.lose()
                return
            except TransportError:
                time.sleep(pause(attempt))
                attempt += 1

    def log(self, text: str) -> None:
        """Mask and queue one log line."""
        masked = self.masker.mask(text)
        self.streamer.add(masked)
        if self.settings.echo is not None:
            self.settings.echo(masked)

    def _lease_loop(self) -> None:
        while not self._done.wait(self.settings.lease_renew_s):
            try:
                self._on_reply(self.client.renew(self.job_id, self.token))
            except HttpError as exc:
                if exc.status in (404, 410):
                    self.control.lose()
                    return
            except TransportError:
                continue

    # ------------------------------------------------------------ contexts

    def contexts(self, extra_env: dict[str, str] | None = None) -> dict[str, Any]:
        ctx = dict(self.base_ctx)
        ctx["env"] = {**self.env_ctx, **(extra_env or {})}
        ctx["steps"] = self.steps_ctx
        ctx["job"] = {**(ctx.get("job") or {}), "status": self.job_status}
        ctx["runner"] = {
            **(ctx.get("runner") or {}),
            "name": self.settings.name,
            "temp": self.temp,
            "tool_cache": os.path.join(self.settings.work_dir, "_tool"),
            "workspace": os.path.dirname(self.workspace),
        }
        ctx["github"] = {**(ctx.get("github") or {}), "workspace": self.workspace}
        return ctx

    def status(self) -> expressions.Status:
        cancelled = self.control.cancelled or self.timed_out
        return expressions.Status(
            success=self.job_status == "success" and not cancelled,
            failure=self.job_status == "failure",
            cancelled=cancelled,
        )

    def _eval_env(self, raw: dict[str, str], ctx: dict[str, Any]) -> dict[str, str]:
        return {k: expressions.to_string(expressions.evaluate_template(v, ctx)) for k, v in raw.items()}

    def base_env(self) -> dict[str, str]:
        """Process environment: agent env + GitHub default variables + workflow/job/GITHUB_ENV env."""
        gh = self.base_ctx.get("github") or {}
        env = dict(os.environ)
        env.update(
            {
                "CI": "true",
                "GITHUB_ACTIONS": "true",
                "GITHUB_WORKSPACE": self.workspace,
                "GITHUB_RUN_ID": str(gh.get("run_id", "")),
                "GITHUB_RUN_NUMBER": str(gh.get("run_number", "")),
                "GITHUB_RUN_ATTEMPT": "1",
                "GITHUB_REPOSITORY": str(gh.get("repository", "")),
                "GITHUB_REPOSITORY_OWNER": str(gh.get("repository_owner", "")),
                "GITHUB_SERVER_URL": str(gh.get("server_url", "")),
                "GITHUB_API_URL": str(gh.get("api_url", "")),
                "GITHUB_GRAPHQL_URL": str(gh.get("graphql_url", "")),
                "GITHUB_SHA": str(gh.get("sha", "")),
                "GITHUB_REF": str(gh.get("ref", "")),
                "GITHUB_REF_NAME": str(gh.get("ref_name", "")),
                "GITHUB_REF_TYPE": str(gh.get("ref_type", "")),
                "GITHUB_EVENT_NAME": str(gh.get("event_name", "")),
                "GITHUB_EVENT_PATH": os.path.join(self.temp, "event.json"),
                "GITHUB_WORKFLOW": str(gh.get("workflow", "")),
                "GITHUB_JOB": str(self.payload.get("job_key", "")),
                "GITHUB_ACTOR": str(gh.get("actor", "")),
                "RUNNER_NAME": self.settings.name,
                "RUNNER_OS": "Linux",
                "RUNNER_ARCH": "X64",
                "RUNNER_TEMP": self.temp,
                "RUNNER_TOOL_CACHE": os.path.join(self.settings.work_dir, "_tool"),
                "RUNNER_WORKSPACE": os.path.dirname(self.workspace),
            }
        )
        env.update(self.env_ctx)
        if self.path_prefix:
            env["PATH"] = os.pathsep.join([*reversed(self.path_prefix), env.get("PATH", "")])
        return env

    # ------------------------------------------------------------ job

    def run(self) -> str:
        """Execute every step, report the job, return its conclusion."""
        self.streamer.start()
        lease = threading.Thread(target=self._lease_loop, name="lease-renew", daemon=True)
        lease.start()
        outputs: dict[str, str] = {}
        try:
            self._prepare()
            for step in self.spec["steps"]:
                if self.control.lost:
                    break
                self._run_step(step)
            outputs = self._job_outputs()
        except Exception as exc:  # e.g. ENOSPC on the work dir: fail the job, keep the agent alive
            self._internal_error(exc)
        finally:
            self._done.set()
        conclusion = self._conclusion()
        self.log(f"Job {self.payload.get('job_key')} finished: {conclusion}")
        self.streamer.close(timeout_s=0.5 if self.control.lost else 10.0)
        if not self.control.lost:
            self._complete(conclusion, outputs)
        with contextlib.suppress(OSError):
            shutil.rmtree(self.temp)
        return "lost" if self.control.lost else conclusion

    def _prepare(self) -> None:
        self.log(f"Runner name: '{self.settings.name}'")
        self.log(
            f"Job '{self.payload.get('job_key')}' (id {self.job_id}) of run {self.payload.get('run_id')}, "
            f"labels {self.payload.get('labels')}"
        )
        os.makedirs(self.workspace, exist_ok=True)
        os.makedirs(self.temp, exist_ok=True)
        with open(os.path.join(self.temp, "event.json"), "w", encoding="utf-8") as handle:
            json.dump((self.base_ctx.get("github") or {}).get("event") or {}, handle)
        try:
            self.env_ctx = self._eval_env(self.payload.get("workflow_env") or {}, self.contexts())
            self.env_ctx.update(self._eval_env(self.spec.get("env") or {}, self.contexts()))
        except ExpressionError as exc:
            self.log(f"##[error]{exc}")
            self.annotations.append({"level": "failure", "message": str(exc)})
            self.job_status = "failure"
            self.failed = True

    def _internal_error(self, exc: BaseException) -> None:
        message = f"Runner error: {type(exc).__name__}: {exc}"
        self.log(f"##[error]{message}")
        self.annotations.append({"level": "failure", "message": message})
        self.failed = True

    def _conclusion(self) -> str:
        if self.timed_out or self.failed:
            return "failure"
        if self.control.cancelled:
            return "cancelled"
        return "failure" if self.job_status == "failure" else "success"

    def _complete(self, conclusion: str, outputs: dict[str, str]) -> None:
        deadline = time.monotonic() + max(60.0, self.settings.lease_renew_s * 10)
        summary = "\n".join(self.summary)
        self._deliver(
            lambda: self.client.complete(self.job_id, self.token, conclusion, outputs, self.annotations, summary),
            lambda attempt: time.monotonic() < deadline,
            lambda attempt: 1.0,
        )

    def _job_outputs(self) -> dict[str, str]:
        out: dict[str, str] = {}
        ctx = self.contexts()
        for key, raw in (self.spec.get("outputs") or {}).items():
            try:
                value = expressions.to_string(expressions.evaluate_template(raw, ctx))
            except ExpressionError as exc:
                self.log(f"##[warning]Output {key!r} could not be evaluated: {exc}")
                continue
            if self.masker.mask(value) != value:
                self.log(f"##[warning]Skip output '{key}' since it may contain secret.")
                continue
            out[key] = value
        return out

    # ------------------------------------------------------------ steps

    def _run_step(self, step: dict[str, Any]) -> None:
        number = int(step["number"])
        step_id = step.get("id")
        name = self._step_name(step)
        if time.monotonic() >= self.deadline and not self.timed_out:
            self._job_timeout()
        try:
            should_run = expressions.evaluate_condition(step.get("if_"), self.contexts(), status=self.status())
        except ExpressionError as exc:
            self._report(lambda: self.client.step_start(self.job_id, self.token, number, name))
            self.log(f"##[error]{exc}")
            self._finish_step(step, name, "failure")
            return
        if not should_run:
            self._report(lambda: self.client.step_complete(self.job_id, self.token, number, name, "skipped", "skipped"))
            if step_id:
                self.steps_ctx[step_id] = {"outputs": {}, "outcome": "skipped", "conclusion": "skipped"}
            return
        self._report(lambda: self.client.step_start(self.job_id, self.token, number, name))
        self.current = StepRun(number, kill_on_cancel=not (self.control.cancelled or self.timed_out))
        self.log(f"##[group]{name}")
        try:
            outcome = self._execute(step)
        except (ExpressionError, OSError, ValueError) as exc:
            self.log(f"##[error]{exc}")
            outcome = "failure"
        self._finish_step(step, name, outcome)

    def _step_name(self, step: dict[str, Any]) -> str:
        raw = step.get("name")
        if raw:
            try:
                return expressions.interpolate(raw, self.contexts())
            except ExpressionError:
                return raw
        if step.get("uses"):
            return f"Run {step['uses']}"
        lines = (step.get("run") or "").strip().splitlines()
        return f"Run {lines[0]}" if lines else "Run"

    def _finish_step(self, step: dict[str, Any], name: str, outcome: str) -> None:
        conclusion = outcome
        if outcome == "failure":
            try:
                if expressions.truthy(expressions.evaluate_template(step.get("continue_on_error"), self.contexts())):
                    conclusion = "success"
            except ExpressionError as exc:
                self.log(f"##[error]continue-on-error: {exc}")
        if conclusion == "failure":
            self.job_status = "failure"
        elif conclusion == "cancelled" and self.job_status == "success":
            self.job_status = "cancelled"
        outputs = self.current.outputs if self.current else {}
        if step.get("id"):
            self.steps_ctx[step["id"]] = {"outputs": outputs, "outcome": outcome, "conclusion": conclusion}
        self.current = None
        self.log("##[endgroup]")
        self._report(
            lambda: self.client.step_complete(self.job_id, self.token, int(step["number"]), name, outcome, conclusion)
        )

    def _step_timeout(self, step: dict[str, Any], ctx: dict[str, Any]) -> tuple[float, bool]:
        """Seconds the step may run and whether the job timeout is the binding limit."""
        raw = step.get("timeout_minutes")
        step_s: float | None = None
        if raw is not None:
            minutes = expressions.to_number(expressions.evaluate_template(raw, ctx))
            step_s = minutes * 60 if minutes == minutes and minutes > 0 else None
        if self.timed_out:  # always() steps after a job timeout get their own budget
            return (step_s or CLEANUP_BUDGET_S), False
        job_left = max(0.0, self.deadline - time.monotonic())
        if step_s is not None and step_s < job_left:
            return step_s, False
        return job_left, True

    def _execute(self, step: dict[str, Any]) -> str:
        step_env = self._eval_env(step.get("env") or {}, self.contexts())
        ctx = self.contexts(step_env)
        files = {
            kind: os.path.join(self.temp, f"{kind}_{step['number']}_{uuid.uuid4().hex[:8]}")
            for kind in ("output", "env", "path", "summary")
        }
        for path in files.values():
            open(path, "w").close()
        env = self.base_env()
        env.update(step_env)
        env.update(
            {
                "GITHUB_OUTPUT": files["output"],
                "GITHUB_ENV": files["env"],
                "GITHUB_PATH": files["path"],
                "GITHUB_STEP_SUMMARY": files["summary"],
                "GITHUB_ACTION": step.get("id") or f"__run_{step['number']}",
            }
        )
        timeout_s, job_bound = self._step_timeout(step, ctx)
        if step.get("uses"):
            outcome = self._run_shim(step, ctx, env, timeout_s)
        else:
            outcome = self._run_script_step(step, ctx, env, timeout_s, job_bound)
        self._apply_files(files)
        return outcome

    def _run_script_step(
        self, step: dict[str, Any], ctx: dict[str, Any], env: dict[str, str], timeout_s: float, job_bound: bool
    ) -> str:
        script = expressions.interpolate(step.get("run") or "", ctx)
        defaults = self.payload.get("defaults_run") or {}
        # GitHub: no `shell` anywhere -> `bash -e {0}` (NO pipefail); `shell: bash` -> `-eo pipefail`
        shell = step.get("shell") or defaults.get("shell") or "default"
        for line in script.splitlines():
            self.log(line)
        directory = step.get("working_directory") or defaults.get("working-directory")
        cwd = self.workspace
        if directory:
            cwd = os.path.join(self.workspace, expressions.interpolate(directory, ctx))
            if not os.path.isdir(cwd):
                self.log(f"##[error]Working directory {cwd!r} does not exist")
                return "failure"
        result = self.run_script(script, shell, cwd, env, timeout_s)
        return self._outcome(result, timeout_s, job_bound)

    def run_script(
        self, script: str, shell: str, cwd: str, env: dict[str, str], timeout_s: float | None
    ) -> ProcessResult:
        """Write `script` to a file and run it with GitHub's shell flags (stdin closed)."""
        path = os.path.join(self.temp, f"{uuid.uuid4()}.sh")
        with open(path, "w", encoding="utf-8") as handle:
            handle.write(script + "\n")
        if shell == "bash":
            argv = ["bash", "--noprofile", "--norc", "-e", "-o", "pipefail", path]
        elif shell == "default":
            argv = ["bash", "-e", path]
        else:
            argv = ["sh", "-e", path]
        self.log(f"shell: {' '.join(argv[:-1])} {{0}}")
        return run_process(
            argv,
            cwd=cwd,
            env=env,
            on_line=self._on_output,
            timeout_s=timeout_s,
            should_stop=self._should_stop,
            kill_grace_s=self.settings.kill_grace_s,
        )

    def _should_stop(self) -> str | None:
        if self.control.lost:
            return "lost"
        if self.control.cancelled and self.current is not None and self.current.kill_on_cancel:
            return "cancelled"
        return None

    def _outcome(self, result: ProcessResult, timeout_s: float, job_bound: bool) -> str:
        if result.error:
            self.log(f"##[error]{result.error}")
            return "failure"
        if result.stopped:
            self.log("##[error]The operation was canceled.")
            return "cancelled"
        if result.timed_out:
            if job_bound:
                self._job_timeout()
                return "cancelled"
            self.log(f"##[error]The action has timed out ({timeout_s:g} s).")
            return "failure"
        if result.exit_code != 0:
            self.log(f"##[error]Process completed with exit code {result.exit_code}.")
            return "failure"
        return "success"

    def _job_timeout(self) -> None:
        self.timed_out = True
        minutes = float(self.payload.get("timeout_minutes") or 360)
        message = (
            f"The job running on runner {self.settings.name} has exceeded the maximum execution "
            f"time of {minutes:g} minutes."
        )
        self.log(f"##[error]{message}")
        self.annotations.append({"level": "failure", "message": message})

    def _on_output(self, line: str) -> None:
        command = parse_command(line)
        if command is None:
            self.log(line)
            return
        if command.name == "add-mask":
            self.masker.add(command.message)
        elif command.name in _ANNOTATION_LEVELS:
            self.annotations.append(
                {"level": _ANNOTATION_LEVELS[command.name], "message": self.masker.mask(command.message)}
            )
            self.log(f"##[{command.name}]{command.message}")
        elif command.name == "group":
            self.log(f"##[group]{command.message}")
        elif command.name == "endgroup":
            self.log("##[endgroup]")
        elif command.name == "set-output" and self.current is not None and command.params.get("name"):
            self.current.outputs[command.params["name"]] = command.message
            self.log("##[warning]The `set-output` command is deprecated; use $GITHUB_OUTPUT.")
        elif command.name != "debug":
            self.log(line)

    def _apply_files(self, files: dict[str, str]) -> None:
        try:
            outputs = filecommands.read_key_values(files["output"])
            new_env = filecommands.read_key_values(files["env"])
        except filecommands.FileCommandError as exc:
            self.log(f"##[error]{exc}")
            raise ValueError(str(exc)) from exc
        if self.current is not None:
            self.current.outputs.update(outputs)
        self.env_ctx.update(new_env)
        self.path_prefix.extend(filecommands.read_paths(files["path"]))
        with open(files["summary"], encoding="utf-8", errors="replace") as handle:
            text = handle.read()
        if text.strip():
            self.summary.append(self.masker.mask(text))

    def _run_shim(self, step: dict[str, Any], ctx: dict[str, Any], env: dict[str, str], timeout_s: float) -> str:
        with_inputs = expressions.evaluate_strings(step.get("with_") or {}, ctx)
        shim_ctx = shims.ShimContext(
            uses=str(step["uses"]),
            inputs={k: expressions.to_string(v) for k, v in with_inputs.items()},
            workspace=self.workspace,
            env=env,
            github=ctx.get("github") or {},
            timeout_s=timeout_s,
            log=self.log,
            run_script=lambda script, shell, timeout: self.run_script(script, shell, self.workspace, env, timeout),
            set_output=self._set_output,
            download=self.client.download,
            cancelled=lambda: self._should_stop() is not None,
        )
        return shims.run_shim(shim_ctx)

    def _set_output(self, key: str, value: str) -> None:
        if self.current is not None:
            self.current.outputs[key] = value
