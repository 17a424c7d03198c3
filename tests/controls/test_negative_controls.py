"""Negative controls: each scenario must FAIL on a pipeline variant that has the defect it checks.

Runs the real Gherkin scenario in a child pytest against a broken variant of the pipeline
(pipeline/variants/<name>) and requires a pipeline finding: not a pass, and not an
inconclusive harness error. The child runs start together, DCH_CONTROL_PARALLELISM (2) at a time.
The reference pipeline passing the same scenario is shown by
tests/scenarios in the same test run.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

import pytest

from harness.core.settings import setting

ROOT = Path(__file__).resolve().parents[2]

FAILOVER = "tests/scenarios/test_runner_failover.py"
ALERTS = "tests/scenarios/test_runner_alerts.py"
SECRETS = "tests/scenarios/test_deploy_secrets.py"
ROLLBACK = "tests/scenarios/test_deploy_rollback.py"
RATE = "tests/scenarios/test_deploy_success_rate.py"
INTERRUPTION = "tests/scenarios/test_deploy_interruption.py"
LOCK = "tests/scenarios/test_deploy_lock.py"

CONTROLS = [
    pytest.param(
        "secondary-first",
        FAILOVER,
        "healthy_primary_runner_takes",
        r"job ran on 'runner-secondary', not on 'runner-primary'",
        id="secondary-first",
    ),
    pytest.param(
        "no-failover",
        FAILOVER,
        "primary_runner_is_offline",
        # the job stays queued for the frozen primary, or is handed to it by a long-poll that was in
        # flight when it froze (as on GitHub): either way it does not start on the secondary
        r"did not start on any runner within|started on 'runner-primary', not on the secondary",
        id="no-failover",
    ),
    pytest.param(
        "selection-ignores-authorization",
        FAILOVER,
        "never_to_an_unauthorized_runner",
        r"the deploy job started on 'runner-build', not on the secondary|ran on 'runner-build', a runner not "
        r"authorized for production",
        id="selection-ignores-authorization",
    ),
    pytest.param(
        "exporter-service-only",
        FAILOVER,
        "cut_off_from_github",
        r"monitoring still reported the primary runner healthy",
        id="exporter-service-only",
    ),
    pytest.param(
        "no-concurrency",
        FAILOVER,
        "never_overlap",
        r"the older pending deploy \(run \d+\) ran and concluded 'success' instead of being cancelled",
        id="no-concurrency",
    ),
    pytest.param(
        "no-concurrency-any-runner",
        FAILOVER,
        "never_overlap",
        r"deploys of runs \d+ \(on runner-\w+\) and \d+ \(on runner-\w+\) ran at the same time",
        id="no-concurrency-any-runner",
    ),
    pytest.param(
        "no-health-gate",
        FAILOVER,
        "both_runners_are_offline",
        # no gate: the deploy job sits queued, is handed to a frozen runner, or (most often, since the
        # topology has one) runs on the idle runner-build, which carries the production labels
        r"sits instead of failing fast|job started on 'runner-(primary|secondary|build)' although the deploy should",
        id="no-health-gate",
    ),
    pytest.param(
        "gate-fail-open",
        FAILOVER,
        "prometheus_is_unreachable",
        # fail-open gate: with Prometheus down it deploys on the primary anyway
        r"job started on 'runner-primary' although the deploy should have been stopped",
        id="gate-fail-open",
    ),
    pytest.param(
        "no-expiry-preflight",
        SECRETS,
        "expired_deploy_certificate",
        # without the preflight the expiry is only found when production's sshd refuses it
        r"the deploy job started on 'runner-primary' although the deploy should have been stopped",
        id="no-expiry-preflight",
    ),
    pytest.param(
        "diagnosis-without-if-failure",
        SECRETS,
        "expired_deploy_certificate",
        r"no job summary carries a failure diagnosis",
        id="diagnosis-without-if-failure",
    ),
    pytest.param(
        "rollback-noop",
        ROLLBACK,
        "broken_release",
        r"production serves '4.0.0', but the deploy should not have touched it",
        id="rollback-noop",
    ),
    pytest.param(
        "health-check-swallowed",
        ROLLBACK,
        "broken_release",
        r"the deploy run concluded 'success', not failure",
        id="health-check-swallowed",
    ),
    pytest.param(
        "no-retry",
        RATE,
        "at_least_95",
        r"only \d+/\d+ deploys succeeded; the rate is at most 0\.\d+ with 95% confidence, below the 0\.95",
        id="no-retry",
    ),
    pytest.param(
        "retry-not-on-timeout",
        RATE,
        "timed_out_and_retried",
        r"production serves '[\d.]+' and the deploy run concluded 'failure'; expected '6.0.0' and success",
        id="retry-not-on-timeout",
    ),
    pytest.param(
        "waits-on-stdin",
        FAILOVER,
        "healthy_primary_runner_takes",
        r"production serves '[\d.]+' and the deploy run concluded 'failure'; expected '1.0.1' and success",
        id="waits-on-stdin",
    ),
    pytest.param(
        "notify-success-always",
        ROLLBACK,
        "broken_release",
        # the success message is sent whatever happens; the rollback one only when the rollback finished in time
        r"the team channel was told \['success'\] as well as 'rollback' about 4.0.0"
        r"|the team channel got no 'rollback' message about 4.0.0 \(it got \['success'\]\)",
        id="notify-success-always",
    ),
    pytest.param(
        "state-written-early",
        ROLLBACK,
        "broken_release",
        # the state file is the rollback's last known good: written early, the rollback restores the broken release
        r"the production state file records \{'current_version': '4.0.0'\}, expected \{'current_version': '1.0.0'\}"
        r"|production serves '4.0.0', but the deploy should not have touched it",
        id="state-written-early",
    ),
    pytest.param(
        "no-rescue",
        INTERRUPTION,
        "backend and killed",
        # nothing rolls back a deploy whose runner died half-way: backends at N+1, frontends at N
        r"after the disruption settled \(budget [\d.]+ s\) production was mixed",
        id="no-rescue",
    ),
    pytest.param(
        "migration-not-rolled-back",
        ROLLBACK,
        "broken_release",
        r"not every component reports [\d.]+: \{'schema': '4\.0\.0'\}",
        id="migration-not-rolled-back",
    ),
    pytest.param(
        "lock-not-released",
        ROLLBACK,
        "no_manual_cleanup",
        r"deploy run concluded 'failure'; expected '4\.2\.0' and success",
        id="lock-not-released",
    ),
    pytest.param(
        "redeploy-restarts",
        ROLLBACK,
        "changes_nothing",
        r"redeploying the live version restarted \['prod-web-1', 'prod-web-2'\]",
        id="redeploy-restarts",
    ),
    pytest.param(
        "rollback-state-not-advanced",
        ROLLBACK,
        "converges_on_x_each_time",
        r"the production state file records \{'current_version': '([\w.-]+)', 'previous_version': '\1'\}, "
        r"expected \{'current_version': '\1', 'previous_version': '10\.0\.0'\}",
        id="rollback-state-not-advanced",
    ),
    pytest.param(
        "alert-wrong-metric",
        ALERTS,
        "offline_primary_runner_pages",
        r"did not reach the on-call within its .* budget: it never even went pending",
        id="alert-wrong-metric",
    ),
    pytest.param(
        "alert-for-too-long",
        ALERTS,
        "offline_primary_runner_pages",
        r"did not reach the on-call within its .* budget: it went pending but never fired",
        id="alert-for-too-long",
    ),
    pytest.param(
        "alert-no-for",
        ALERTS,
        "blip_shorter",
        r"blip, shorter than the alert's `for`, paged the on-call",
        id="alert-no-for",
    ),
    pytest.param(
        "lock-alert-on-heartbeat",
        LOCK,
        "hung_deploy_holding_the_lock",
        # the hung deploy renews its heartbeat: a rule on the heartbeat's age never even goes pending
        r"DeployLockStale\{\} did not reach the on-call within its .* budget: it never even went pending",
        id="lock-alert-on-heartbeat",
    ),
]


ControlRun = tuple[subprocess.CompletedProcess[str], list[str], int]


def run_scenarios(test_file: str, select: str, variant: str, out: Path) -> ControlRun:
    """Run the scenarios of `test_file` matching `-k select` in a child pytest against variant `variant`.

    Returns the process, per failed scenario the failure message from the JUnit XML (it names
    the exception class: PipelineFinding = finding, other = harness problem), and how many ran.
    """
    junit = out / "junit.xml"
    cmd = [
        sys.executable,
        "-m",
        "pytest",
        test_file,
        "-k",
        select,
        f"--pipeline-variant={variant}",
        f"--alluredir={out / 'allure'}",
        f"--junitxml={junit}",
        "-p",
        "no:cacheprovider",
        "-q",
    ]
    env = {**os.environ, "DCH_REPORTS_DIR": str(out / "reports")}  # the child's journals and verdicts stay apart
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=900, stdin=subprocess.DEVNULL, env=env)
    elements = list(ET.parse(junit).iter()) if junit.exists() else []
    failures = [f.get("message", "") for f in elements if f.tag in ("failure", "error")]
    return proc, failures, sum(1 for e in elements if e.tag == "testcase")


@pytest.fixture(scope="module")
def control_runs(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[dict[str, Future[ControlRun]]]:
    """Start every selected control's child run at once (each has its own topology), a few in parallel."""
    selected = [
        item.callspec.params
        for item in request.session.items
        if item.originalname == "test_scenario_fails_on_broken_variant"
    ]
    # two at a time: each child starts a 12-container topology, and on 2 cores a third one slows
    # every deploy (and its rollback) enough to change what the scenarios measure
    workers = int(setting("control_parallelism", "2") or 2)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        yield {
            p["variant"]: pool.submit(
                run_scenarios, p["test_file"], p["select"], p["variant"], tmp_path_factory.mktemp(p["variant"])
            )
            for p in selected
        }


@pytest.mark.docker
@pytest.mark.parametrize(("variant", "test_file", "select", "expected_finding"), CONTROLS)
def test_scenario_fails_on_broken_variant(
    variant: str, test_file: str, select: str, expected_finding: str, control_runs: dict[str, Future[ControlRun]]
) -> None:
    """The targeted scenario reports a pipeline finding on the broken variant."""
    proc, failures, scenarios_run = control_runs[variant].result()
    output = (proc.stdout + proc.stderr)[-4000:]
    assert proc.returncode == 1, f"expected the scenario to fail on variant {variant}:\n{output}"
    assert scenarios_run == 1, f"expected exactly the targeted scenario to run, {scenarios_run} ran:\n{output}"
    assert len(failures) == 1, f"expected exactly one failed scenario, got {failures}:\n{output}"
    assert failures[0].startswith("harness.core.errors.PipelineFinding"), (
        f"the scenario failed, but not with a pipeline finding (harness problem?): {failures[0]}\n{output}"
    )
    assert re.search(expected_finding, failures[0]), failures[0]
