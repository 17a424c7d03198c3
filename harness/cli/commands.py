"""deploy-chaos: the one command of the harness.

Exit codes: 0 every claim checked passed; 1 the pipeline failed a claim (findings); 2 the harness
could not decide (inconclusive scenarios or a harness error); 3 bad input (usage, profile,
pipeline path, variant, journal); 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

from harness.core.errors import ConfigError, HarnessError

EXIT_FINDINGS = 1
EXIT_INCONCLUSIVE = 2
EXIT_HARNESS_ERROR = 2
EXIT_USAGE = 3
EXIT_INTERRUPTED = 130
PYTEST_INTERRUPTED, PYTEST_USAGE = 2, 4


class _Parser(argparse.ArgumentParser):
    """argparse that reports bad usage in one line and exits with EXIT_USAGE."""

    def error(self, message: str) -> None:  # type: ignore[override]
        """One line: what is wrong, and where to look."""
        print(f"deploy-chaos: error: {message}. Fix: see `{self.prog} --help`", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _setup(rebuild: bool = False) -> None:
    import docker

    from harness.bootstrap.engine import ensure_engine
    from harness.bootstrap.images import build_images
    from harness.bootstrap.progress import Progress

    progress = Progress()
    ensure_engine(progress)
    _ensure_ssh_keygen(progress)
    build_images(docker.from_env(timeout=600), progress, rebuild=rebuild)
    total = sum(r.seconds for r in progress.records if r.name in ("Docker engine", "base image", "images"))
    progress.info(f"setup done in {total:.1f} s")


def _ensure_ssh_keygen(progress: object) -> None:
    if shutil.which("ssh-keygen"):
        return
    if os.geteuid() == 0 and shutil.which("apt-get"):
        subprocess.run(
            ["apt-get", "install", "-y", "-q", "openssh-client"],
            check=True,
            capture_output=True,
            env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"},
        )
        return
    raise HarnessError(
        "ssh-keygen is missing (it makes each run's SSH certificate authority). Fix: install openssh-client."
    )


def _pytest(args: list[str]) -> int:
    from harness.core.settings import project_root, reports_dir

    results = reports_dir() / "allure-results"
    shutil.rmtree(results, ignore_errors=True)
    cmd = [sys.executable, "-m", "pytest", f"--alluredir={results}", *args]
    print("+ " + " ".join(cmd), file=sys.stderr, flush=True)
    return subprocess.call(cmd, cwd=project_root())


def _report() -> Path:
    from harness.core.settings import reports_dir
    from harness.report.html import generate_html

    index = generate_html(reports_dir() / "allure-results", reports_dir() / "allure-report")
    print(f"HTML report: {index}", file=sys.stderr)
    return index


def cmd_setup(ns: argparse.Namespace) -> int:
    """Install/start the engine and build images (idempotent)."""
    _setup(rebuild=ns.rebuild)
    return 0


def _validate_run_inputs(ns: argparse.Namespace) -> None:
    """Profile, pipeline path and variant are checked before anything starts (ConfigError: one line)."""
    from harness.core.pipeline_source import PipelineSource
    from harness.core.profiles import load_profile
    from harness.core.settings import project_root

    load_profile(ns.profile, project_root() / "profiles")
    root = Path(ns.pipeline).resolve() if ns.pipeline else project_root() / "pipeline"
    if not root.is_dir():
        raise ConfigError(f"--pipeline {ns.pipeline}: no such folder. Fix: give the root of a pipeline repository")
    PipelineSource(root, ns.variant)


def outcome_code(pytest_code: int, outcome: dict[str, int] | None) -> int:
    """The exit code of a run, from pytest's and the session's tally of findings and inconclusive scenarios."""
    if pytest_code == 0:
        return 0
    if pytest_code == PYTEST_INTERRUPTED:
        return EXIT_INTERRUPTED
    if pytest_code == PYTEST_USAGE:
        return EXIT_USAGE
    if outcome and outcome.get("findings"):
        return EXIT_FINDINGS
    return EXIT_INCONCLUSIVE


def _outcome() -> dict[str, int] | None:
    import json

    from harness.core.settings import reports_dir

    path = reports_dir() / "outcome.json"
    try:
        return dict(json.loads(path.read_text()))
    except (OSError, ValueError):
        return None


def cmd_run(ns: argparse.Namespace) -> int:
    """Set up, run the Gherkin scenarios against the pipeline, write the HTML report."""
    started = time.monotonic()
    _validate_run_inputs(ns)
    _setup()
    args = ["tests/scenarios", f"--profile={ns.profile}"]
    if ns.variant:
        args.append(f"--pipeline-variant={ns.variant}")
    if ns.pipeline:
        args.append(f"--pipeline={ns.pipeline}")
    code = _pytest(args + list(ns.pytest_args))
    _report()
    result = outcome_code(code, _outcome())
    print(f"run finished in {time.monotonic() - started:.1f} s (exit {result}; pytest {code})", file=sys.stderr)
    return result


def cmd_test(ns: argparse.Namespace) -> int:
    """Set up, then run the whole test suite (unit, scenarios, negative controls)."""
    started = time.monotonic()
    _setup()
    code = _pytest(list(ns.pytest_args))
    print(f"tests finished in {time.monotonic() - started:.1f} s (pytest exit {code})", file=sys.stderr)
    return code


def cmd_lint(ns: argparse.Namespace) -> int:
    """ruff check and ruff format --check over the project (what CI runs first)."""
    from harness.core.settings import project_root

    ruff = Path(sys.executable).with_name("ruff")
    if not ruff.exists():
        raise HarnessError(f"ruff is not installed in {ruff.parent}. Fix: ./bin/deploy-chaos setup (installs .[dev])")
    codes = [
        subprocess.call([str(ruff), *args], cwd=project_root()) for args in (["check", "."], ["format", "--check", "."])
    ]
    return 0 if not any(codes) else EXIT_FINDINGS


def cmd_lint_pipeline(ns: argparse.Namespace) -> int:
    """Lint the pipeline under test (workflows, shell scripts, alert rules, playbooks): one finding a line."""
    from harness.core.pipeline_source import PipelineSource
    from harness.core.settings import project_root
    from harness.lint.pipeline_lint import lint_pipeline

    root = Path(ns.pipeline).resolve() if ns.pipeline else project_root() / "pipeline"
    if not root.is_dir():
        raise ConfigError(f"--pipeline {ns.pipeline}: no such folder. Fix: give the root of a pipeline repository")
    report = lint_pipeline(PipelineSource(root, ns.variant), ns.tool)
    for finding in report.findings:
        print(finding.render(), flush=True)
    for error in report.errors:
        print(f"deploy-chaos: error: {error}", file=sys.stderr)
    print(report.summary(), file=sys.stderr)
    if report.findings:
        return EXIT_FINDINGS
    return EXIT_HARNESS_ERROR if report.errors else 0


def cmd_report(ns: argparse.Namespace) -> int:
    """Render reports/allure-results into reports/allure-report."""
    _report()
    return 0


def cmd_cleanup(ns: argparse.Namespace) -> int:
    """Remove containers and networks left by harness runs (replaying their pending fault undo logs first)."""
    from harness.bootstrap.engine import docker_client
    from harness.faults.undo import default_undo_dir
    from harness.topology.backend import DockerBackend
    from harness.topology.cleanup import cleanup, sweep_dead_runs

    backend = DockerBackend(docker_client())
    if ns.dead:
        swept = sweep_dead_runs(backend)
        for run in swept:
            print(run.line(), file=sys.stderr)
        print(f"{len(swept)} run(s) left by a harness that died; live runs were not touched", file=sys.stderr)
        reports = [run.report for run in swept]
    else:
        report = cleanup(backend, ns.run, default_undo_dir())
        reports = [report]
        print(
            f"replayed the undo of {len(report.undone)} fault(s); removed {len(report.containers)} container(s) "
            f"{report.containers} and {len(report.networks)} network(s)",
            file=sys.stderr,
        )
    for report in reports:
        for line in report.not_undone:  # its container is removed after the attempt: a warning, not a failure
            print(f"deploy-chaos: warning: undo not replayed: {line}", file=sys.stderr)
        for failure in report.failed:
            print(f"deploy-chaos: error: not removed: {failure}. Fix: re-run `deploy-chaos cleanup`", file=sys.stderr)
    return EXIT_HARNESS_ERROR if any(report.failed for report in reports) else 0


def cmd_images(ns: argparse.Namespace) -> int:
    """Print each image's content-hash tag."""
    from harness.bootstrap.images import image_tags

    for name, tag in image_tags().items():
        print(f"{name}\t{tag}")
    return 0


def cmd_list(ns: argparse.Namespace) -> int:
    """List the Gherkin scenarios: feature, name, tags and the claims each checks."""
    from harness.cli.listing import render_json, render_text, scenarios
    from harness.core.settings import project_root

    rows, uncovered = scenarios(project_root(), ns.tag or ())
    if ns.format == "json":
        print(render_json(rows))
        print(f"not covered by any scenario: {'; '.join(uncovered) or 'none'}", file=sys.stderr)
        return 0
    print("\n".join(render_text(rows, shutil.get_terminal_size((120, 24)).columns)))
    print(f"\n{len(rows)} scenario(s). Claims no scenario checks: {len(uncovered) or 'none'}")
    for claim in uncovered:
        print(f"  {claim}")
    return 0


def cmd_doctor(ns: argparse.Namespace) -> int:
    """Diagnose this machine without changing anything: engine, images, host tools, disk, kernel, cgroups."""
    from harness.bootstrap import doctor

    results = doctor.diagnose(doctor.LocalHost())
    for result in results:
        print(result.line(), flush=True)
    failed, warned = (sum(r.status == s for r in results) for s in (doctor.FAIL, doctor.WARN))
    print(f"doctor: {failed} failed, {warned} warning(s); nothing was changed", file=sys.stderr)
    return doctor.exit_code(results)


def _budget(text: str) -> tuple[str, float]:
    name, sep, value = text.partition("=")
    try:
        if not sep or not name:
            raise ValueError
        return name, float(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not NAME=SECONDS (e.g. failover_budget_s=10)") from None


def cmd_recheck(ns: argparse.Namespace) -> int:
    """Recompute every verdict of a recorded run from its journal; print the measurement table."""
    from harness.checks.recheck import recheck
    from harness.core.journal import Journal
    from harness.core.types import Verdict
    from harness.report.table import measurement_lines

    results = recheck(Journal.load(Path(ns.journal)), dict(ns.budget or []), ns.check)
    if not results:
        print(f"deploy-chaos: {ns.journal} holds no verdict{' of ' + ns.check if ns.check else ''}", file=sys.stderr)
        return EXIT_INCONCLUSIVE
    for line in measurement_lines([r.row() for r in results]):
        print(line)
    changed = [r for r in results if r.recorded.get("verdict") != r.recomputed.verdict.value]
    for r in changed:
        print(
            f"changed: {r.request.scenario} {r.request.check}: recorded {r.recorded.get('verdict')}, "
            f"now {r.recomputed.verdict.value}: {r.recomputed.message}"
        )
    exact = sum(r.same for r in results)
    print(
        f"{exact} of {len(results)} verdicts reproduced exactly; {len(changed)} changed verdict",
        file=sys.stderr,
    )
    verdicts = {r.recomputed.verdict for r in results}
    if Verdict.FAILED in verdicts:
        return EXIT_FINDINGS
    return EXIT_INCONCLUSIVE if Verdict.INCONCLUSIVE in verdicts else 0


def build_parser() -> argparse.ArgumentParser:
    """The argument parser."""
    from harness.lint.pipeline_lint import TOOL_NAMES

    parser = _Parser(prog="deploy-chaos", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("setup", help=cmd_setup.__doc__)
    p.add_argument("--rebuild", action="store_true", help="rebuild images even if their tag exists")
    p.set_defaults(func=cmd_setup)
    p = sub.add_parser("run", help=cmd_run.__doc__)
    p.add_argument("--profile", default="nightly")
    p.add_argument("--variant", default=None, help="run against a broken variant (negative control)")
    p.add_argument("--pipeline", default=None, help="pipeline repository (default ./pipeline)")
    p.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    p.set_defaults(func=cmd_run)
    p = sub.add_parser("test", help=cmd_test.__doc__)
    p.add_argument("pytest_args", nargs="*", help="extra pytest arguments (after --)")
    p.set_defaults(func=cmd_test)
    p = sub.add_parser("lint", help=cmd_lint.__doc__)
    p.set_defaults(func=cmd_lint)
    p = sub.add_parser(
        "lint-pipeline",
        help=cmd_lint_pipeline.__doc__,
        description=f"{cmd_lint_pipeline.__doc__} actionlint (with shellcheck on run: scripts) over "
        ".github/workflows, shellcheck over *.sh, promtool check rules and test rules over monitoring/, "
        "ansible-playbook --syntax-check over ansible/. Each finding is `path:line:col: tool: message`. "
        "Exit 0 clean, 1 findings, 2 a tool missing or failing, 3 bad input.",
    )
    p.add_argument("--pipeline", default=None, help="pipeline repository (default ./pipeline)")
    p.add_argument("--variant", default=None, help="lint a broken variant (the reference with its files laid over)")
    p.add_argument(
        "--tool", action="append", choices=TOOL_NAMES, help="only this tool (repeatable; default: every tool)"
    )
    p.set_defaults(func=cmd_lint_pipeline)
    p = sub.add_parser("report", help=cmd_report.__doc__)
    p.set_defaults(func=cmd_report)
    p = sub.add_parser("cleanup", help=cmd_cleanup.__doc__)
    which = p.add_mutually_exclusive_group()
    which.add_argument("--run", default=None, help="only this run id (default: every harness run)")
    which.add_argument("--dead", action="store_true", help="only runs whose harness process died (never a live run)")
    p.set_defaults(func=cmd_cleanup)
    p = sub.add_parser("recheck", help=cmd_recheck.__doc__)
    p.add_argument("journal", help="a recorded run: reports/journals/journal-<run>.jsonl")
    p.add_argument(
        "--budget", action="append", type=_budget, metavar="NAME=VALUE", help="replace a named budget (repeatable)"
    )
    p.add_argument("--check", default=None, help="only this checker (e.g. failover)")
    p.set_defaults(func=cmd_recheck)
    p = sub.add_parser("images", help=cmd_images.__doc__)
    p.set_defaults(func=cmd_images)
    p = sub.add_parser(
        "list",
        help=cmd_list.__doc__,
        description=f"{cmd_list.__doc__} Claims: the alert claims of harness/core/claims.py and the checks "
        "(`recheck --check` names) each scenario's steps judge; then the claims no scenario checks.",
    )
    p.add_argument(
        "--tag",
        action="append",
        metavar="EXPR",
        help="only scenarios whose tags match (e.g. US1, 'alerts and not US3'; repeatable: all must match)",
    )
    p.add_argument("--format", choices=("text", "json"), default="text", help="a table, or a JSON list of objects")
    p.set_defaults(func=cmd_list)
    p = sub.add_parser(
        "doctor",
        help=cmd_doctor.__doc__,
        description=f"{cmd_doctor.__doc__} One line per check (ok, warn or fail), with a Fix for what is "
        "missing. Exit 0 when nothing required fails, 2 when something does.",
    )
    p.set_defaults(func=cmd_doctor)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point: bad input prints one line and exits 3; a harness error its explanation and exits 2."""
    ns = build_parser().parse_args(argv)
    try:
        return int(ns.func(ns))
    except ConfigError as exc:
        print(f"deploy-chaos: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except HarnessError as exc:
        print(f"deploy-chaos: error: {exc}", file=sys.stderr)
        return EXIT_HARNESS_ERROR
    except KeyboardInterrupt:
        print("deploy-chaos: interrupted", file=sys.stderr)
        return EXIT_INTERRUPTED


if __name__ == "__main__":
    sys.exit(main())
