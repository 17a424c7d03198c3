"""Generate every broken variant of the reference pipeline: one file, one planted defect each.

Run after changing the reference pipeline: `python3 pipeline/variants/regenerate.py`.
Each variant is the reference file with exactly one transformation, so the harness catches the
defect and nothing else; tests/pipeline/test_variants.py fails when a variant is stale.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

HERE = Path(__file__).resolve().parent
PIPELINE = HERE.parent
WORKFLOW = ".github/workflows/deploy.yml"
RUNS_ON = "    runs-on: ${{ fromJSON(needs.select-runner.outputs.labels) }}\n"
CONCURRENCY = "    concurrency:\n      group: production-deploy\n      cancel-in-progress: false\n"
PRIMARY_ALERT = ('        expr: (up{job="github-runners",runner="primary"} == 0) or (runner_status{runner="primary"} == 0)\n'
                 "        for: 5m\n")


def _must(text: str, old: str, new: str) -> str:
    if old not in text:
        raise SystemExit(f"the reference no longer contains {old!r}: update regenerate.py")
    return text.replace(old, new, 1) if text.count(old) == 1 else text.replace(old, new)


def no_failover(src: str) -> str:
    """The deploy job targets the primary's labels only."""
    return _must(src, RUNS_ON, "    # DEFECT (negative control): the deploy targets the primary's labels only, so the\n"
                 "    # health gate's choice is ignored and nothing fails over to the secondary.\n"
                 "    runs-on: [self-hosted, production, primary]\n")


def no_health_gate(src: str) -> str:
    """No selection job; the deploy targets any production runner."""
    start, end = src.index("  select-runner:"), src.index("  deploy:")
    out = src[:start] + src[end:]
    out = _must(out, "    needs: select-runner\n" + RUNS_ON,
                "    needs: preflight\n"
                "    # DEFECT (negative control): no health gate; the job targets any production runner and\n"
                "    # sits queued when none is online instead of failing fast with a diagnosis.\n"
                "    runs-on: [self-hosted, production]\n")
    return _must(out, "          RUNNER_ROLE: ${{ needs.select-runner.outputs.role }}\n", "")


def no_concurrency(src: str) -> str:
    """No concurrency group on the deploy job."""
    return _must(src, CONCURRENCY, "    # DEFECT (negative control): no concurrency group: requested deploys all run, in turn.\n")


def no_concurrency_any_runner(src: str) -> str:
    """No concurrency group, and any production runner will do."""
    out = _must(src, CONCURRENCY, "")
    return _must(out, RUNS_ON, "    # DEFECT (negative control): no concurrency group, and any production runner will do,\n"
                 "    # so two deploys can run at once on the two runners.\n"
                 "    runs-on: [self-hosted, production]\n")


def no_expiry_preflight(src: str) -> str:
    """No credential preflight: an expired certificate is only found when SSH refuses it."""
    start, end = src.index("  preflight:"), src.index("  select-runner:")
    out = src[:start] + "  # DEFECT (negative control): no credential preflight; expiry is found by production.\n" \
        + src[end:]
    return _must(out, "    needs: preflight\n", "")


def diagnosis_without_if_failure(src: str) -> str:
    """The diagnosis steps lack `if: failure()`, so (implicit success()) they never run on a failure."""
    return _must(src, "      - name: Diagnose the failure\n        if: failure()\n",
                 "      - name: Diagnose the failure\n"
                 "        # DEFECT (negative control): no `if: failure()`, so this step is skipped on failure\n")


def no_retry(src: str) -> str:
    """A single deploy attempt: a dropped SSH connection fails the deploy."""
    return _must(src, "          DEPLOY_ATTEMPTS: 3\n",
                 "          # DEFECT (negative control): no retry; one dropped connection fails the deploy.\n"
                 "          DEPLOY_ATTEMPTS: 1\n")


def secondary_first(src: str) -> str:
    """The selection prefers the secondary, bypassing a healthy primary."""
    return _must(src, "for role in primary secondary; do",
                 "# DEFECT (negative control): the secondary is preferred, so a healthy primary is bypassed.\n"
                 "for role in secondary primary; do")


def gate_fail_open(src: str) -> str:
    """An unreachable Prometheus is taken as 'primary healthy'."""
    return _must(src, '    echo "::error::Prometheus unreachable at $PROMETHEUS_URL; failing closed: no runner health '
                 'evidence"\n    exit 2\n',
                 "    # DEFECT (negative control): fail OPEN. No health evidence is taken as \"primary healthy\".\n"
                 '    echo "::warning::health check skipped, assuming the primary runner is healthy"\n'
                 '    [ "$role" = primary ]\n    return\n')


def exporter_service_only(src: str) -> str:
    """runner_status is 'service process alive' only: blind to a runner cut off from GitHub."""
    return _must(src, '        f"runner_status{{{labels}}} {1 if alive and fresh else 0}",\n',
                 "        # DEFECT (negative control): \"runner service active\" only; a runner cut off from GitHub\n"
                 "        # stays green.\n"
                 '        f"runner_status{{{labels}}} {1 if alive else 0}",\n')


def rollback_noop(src: str) -> str:
    """The rollback restores nothing but reports that it did."""
    return _must(src, '    switch_to "$last_good"\n    if healthy_at "$last_good"; then\n',
                 "    # DEFECT (negative control): the rollback restores nothing but reports that it did.\n"
                 "    if true; then\n")


def health_check_swallowed(src: str) -> str:
    """The health check's failure is ignored."""
    return _must(src, 'if ! healthy_at "$version"; then\n',
                 "# DEFECT (negative control): the health check's failure is swallowed.\n"
                 'healthy_at "$version" || echo "warning: health check did not pass, continuing" >&2\n'
                 "if false; then\n")


def alert_wrong_metric(src: str) -> str:
    """RunnerOffline(primary) on a metric nobody exports."""
    return _must(src, PRIMARY_ALERT, '        expr: github_runner_up{runner="primary"} == 0  '
                 "# DEFECT (negative control): a metric nobody exports\n        for: 5m\n")


def alert_for_too_long(src: str) -> str:
    """RunnerOffline(primary) waits 15m, three times the spec's 5m."""
    return _must(src, PRIMARY_ALERT, PRIMARY_ALERT.replace(
        "for: 5m\n", "for: 15m  # DEFECT (negative control): three times the spec's 5m\n"))


def alert_no_for(src: str) -> str:
    """RunnerOffline(primary) has no `for`: any blip pages."""
    return _must(src, PRIMARY_ALERT, PRIMARY_ALERT.replace(
        "        for: 5m\n", "        # DEFECT (negative control): no `for`, so any blip pages the on-call\n"))


def waits_on_stdin(src: str) -> str:
    """The deploy asks for a confirmation on stdin (closed on runners: EOF fails the step)."""
    return _must(src, 'echo "deploying $VERSION to',
                 "# DEFECT (negative control): waits for a human on stdin, which a runner closes.\n"
                 'read -r -p "Deploy $VERSION to production? [y/N] " confirm\n'
                 '[ "$confirm" = y ] || { echo "aborted"; exit 1; }\n'
                 'echo "deploying $VERSION to')


def notify_success_always(src: str) -> str:
    """A success notification is sent before knowing whether anything was deployed."""
    return _must(src, 'if [ "$code" -eq 3 ]; then\n',
                 "# DEFECT (negative control): announces success before checking the outcome.\n"
                 'notify "Production deploy of $VERSION succeeded" success\n'
                 'if [ "$code" -eq 3 ]; then\n')


def state_written_early(src: str) -> str:
    """The state file is written before the new release proved healthy."""
    start = src.index("jq -n --arg cur")
    end = src.index('rm -f "$app/.state.tmp"\n') + len('rm -f "$app/.state.tmp"\n')
    block = src[start:end]
    out = src[:start] + src[end:]
    return _must(out, 'switch_to "$version"\n\n', 'switch_to "$version"\n'
                 "# DEFECT (negative control): the state file is written before the health check.\n"
                 + block + "\n")


def retry_not_on_timeout(src: str) -> str:
    """Only connection failures are retried; an attempt that timed out fails the deploy."""
    return _must(src, 'if [ "$code" -eq 0 ] || { [ "$code" -ne 255 ] && [ "$code" -ne 124 ]; }; then\n',
                 "  # DEFECT (negative control): a timed-out attempt (124) is not retried.\n"
                 '  if [ "$code" -eq 0 ] || [ "$code" -ne 255 ]; then\n')


RULES = "monitoring/rules/runner-alerts.yml"
VARIANTS: dict[str, tuple[str, Callable[[str], str]]] = {
    "no-failover": (WORKFLOW, no_failover),
    "no-health-gate": (WORKFLOW, no_health_gate),
    "no-concurrency": (WORKFLOW, no_concurrency),
    "no-concurrency-any-runner": (WORKFLOW, no_concurrency_any_runner),
    "no-expiry-preflight": (WORKFLOW, no_expiry_preflight),
    "diagnosis-without-if-failure": (WORKFLOW, diagnosis_without_if_failure),
    "no-retry": (WORKFLOW, no_retry),
    "secondary-first": ("scripts/select-runner.sh", secondary_first),
    "gate-fail-open": ("scripts/select-runner.sh", gate_fail_open),
    "exporter-service-only": ("runner-exporter/runner_exporter.py", exporter_service_only),
    "rollback-noop": ("scripts/remote-activate.sh", rollback_noop),
    "health-check-swallowed": ("scripts/remote-activate.sh", health_check_swallowed),
    "waits-on-stdin": ("scripts/deploy.sh", waits_on_stdin),
    "retry-not-on-timeout": ("scripts/deploy.sh", retry_not_on_timeout),
    "notify-success-always": ("scripts/deploy.sh", notify_success_always),
    "state-written-early": ("scripts/remote-activate.sh", state_written_early),
    "alert-wrong-metric": (RULES, alert_wrong_metric),
    "alert-for-too-long": (RULES, alert_for_too_long),
    "alert-no-for": (RULES, alert_no_for),
}


def render(name: str) -> tuple[Path, str]:
    """Where the variant's file goes and its text."""
    rel, transform = VARIANTS[name]
    return HERE / name / rel, transform((PIPELINE / rel).read_text())


def main() -> None:
    """Write every variant's file."""
    for name in VARIANTS:
        target, text = render(name)
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text)
        print(f"wrote {target.relative_to(PIPELINE)}")


if __name__ == "__main__":
    main()
