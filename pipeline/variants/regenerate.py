"""Generate every broken variant of the reference pipeline: one planted defect each.

Run after changing the reference pipeline: `python3 pipeline/variants/regenerate.py`.
Each variant is the reference with exactly one transformation (of one file, or of the few files
one defect lives in: `no-rescue` removes the rescue and the watchdog), so the harness catches the
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


def no_retry_connections(src: str) -> str:
    """Ansible does not reconnect either (the deploy's other retry layer): no retry at all."""
    return _must(src, "retries = 3\n", "# DEFECT (negative control): a refused or reset connection is not tried again.\n"
                 "retries = 0\n")


def secondary_first(src: str) -> str:
    """The selection prefers the secondary, bypassing a healthy primary."""
    return _must(src, "for role in primary secondary; do",
                 "# DEFECT (negative control): the secondary is preferred, so a healthy primary is bypassed.\n"
                 "for role in secondary primary; do")


def selection_ignores_authorization(src: str) -> str:
    """The selection takes any healthy runner Prometheus scrapes, authorized for production or not."""
    out = _must(src, r' and on(instance) runner_status{runner=\"$role\",authorized_for_prod=\"true\"} == 1"',
                r' and on(instance) runner_status{runner=\"$role\"} == 1"')
    return _must(out, "for role in primary secondary; do",
                 "# DEFECT (negative control): the candidates are every runner Prometheus scrapes (primary\n"
                 "# first, then by name) and authorized_for_prod is never checked.\n"
                 'for role in primary $(curl -fsS --max-time 5 "$PROMETHEUS_URL/api/v1/label/runner/values" '
                 "| jq -r '.data[]' | grep -vx primary | sort); do")


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


TXN = "production/app-txn"
RELEASE = "production/app-release"
WATCHDOG = "production/app-watchdog"
PLAYBOOK = "ansible/deploy.yml"
# the rollback's psql line running down.sql, as app-txn's source spells it (`\\i` in a Python string)
DOWN_SQL = "    \\\\i :down_path\n"


def rollback_noop(src: str) -> str:
    """The rollback restores nothing (neither the schema nor any host) but reports that it did."""
    out = _must(src, DOWN_SQL, "    \\\\echo 'DEFECT (negative control): down.sql not run'\n")
    return _must(
        out,
        '    """Put this host\'s components back as `entry` (its snapshot) recorded them; the caller holds\n'
        '    the host mutex. Frontend first, then the backend (the reverse of the deploy\'s order)."""\n',
        '    """Put this host\'s components back as `entry` (its snapshot) recorded them; the caller holds\n'
        '    the host mutex. Frontend first, then the backend (the reverse of the deploy\'s order)."""\n'
        "    # DEFECT (negative control): the rollback restores nothing but reports that it did.\n"
        '    return [f"{c} -> {(entry.get(c) or {}).get(\'version\')}" for c in ("frontend", "backend")]\n',
    )


def health_check_swallowed(src: str) -> str:
    """The health step's failure is ignored: the deploy commits a release that is not healthy."""
    return _must(src, "              - \"{{ health_timeout_s }}\"\n          delegate_to: localhost\n",
                 "              - \"{{ health_timeout_s }}\"\n"
                 "          # DEFECT (negative control): the health check's failure is swallowed.\n"
                 "          ignore_errors: true\n          delegate_to: localhost\n")


def state_written_early(src: str) -> str:
    """The state file is written before the health check (it records a release that may be rolled back)."""
    start = src.index("        - name: commit | the state file records the committed release\n")
    end = src.index("\n      rescue:\n")
    block = src[start:end].rstrip("\n") + "\n"
    out = src[:start] + src[end:].lstrip("\n")
    out = out.replace("\n\n      rescue:\n", "\n      rescue:\n", 1) if "\n\n      rescue:" in out else out
    return _must(out, "        - name: DCH-STEP health\n",
                 "        # DEFECT (negative control): the state file is written before the health check.\n"
                 + block.replace("the committed release", "the release") + "\n        - name: DCH-STEP health\n")


def no_rescue_playbook(src: str) -> str:
    """No rescue (and no lock release that would roll back): a failed deploy stays as it failed."""
    start = src.index("      rescue:\n")
    return src[:start] + (
        "      # DEFECT (negative control): no rescue, and no `always` that would roll back an open\n"
        "      # transaction: an interrupted or failed deploy is not rolled back.\n"
    )


def no_rescue_watchdog(src: str) -> str:
    """No watchdog: nothing on the hosts rolls back a deploy whose runner died."""
    return _must(src, "def main() -> int:\n",
                 "def main() -> int:\n"
                 "    # DEFECT (negative control): no watchdog; a deploy whose runner died is never rolled back.\n"
                 "    return 0\n\n\ndef _unused_main() -> int:\n")


def migration_not_rolled_back(src: str) -> str:
    """The rollback restores every host but never runs down.sql: the schema stays at the failed release."""
    return _must(src, DOWN_SQL, "    \\\\echo 'DEFECT (negative control): the migration is not rolled back'\n")


def lock_not_released(src: str) -> str:
    """The rollback restores everything but leaves the transaction open: the deploy lock is never released."""
    return _must(src, "  UPDATE deploy_txn SET phase = 'rolled_back', ended_at = now() WHERE id = :id;\n",
                 "  -- DEFECT (negative control): the lock (phase 'open') is never released\n"
                 "  UPDATE deploy_txn SET ended_at = now() WHERE id = :id;\n")


def redeploy_restarts(src: str) -> str:
    """Deploying the live release restarts the backend anyway."""
    return _must(src, "            if moved or running != version:\n",
                 "            # DEFECT (negative control): restarts the backend even when nothing moved.\n"
                 "            if True:\n")


def rollback_state_not_advanced(src: str) -> str:
    """A rollback of a finished release keeps the previous_version it found (written as for a
    redeploy of the live release): after X -> rollback to P the state file says P and P."""
    return _must(src, '        "previous_version": previous.get("previous_version") if same else (txn["from"] or None),\n',
                 "        # DEFECT (negative control): a rollback keeps the previous_version it found.\n"
                 '        "previous_version": previous.get("previous_version") if same or direction(txn) == "down"\n'
                 '        else (txn["from"] or None),\n')


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


LOCK_RULE = 'expr: deploy_lock_open{job="production-db"} == 1\n'


def lock_alert_on_heartbeat(src: str) -> str:
    """DeployLockStale watches the lock's heartbeat age, not how long it is held: a hung deploy whose
    renewer is alive keeps the heartbeat fresh and never pages."""
    return _must(src, LOCK_RULE,
                 "# DEFECT (negative control): a stale lock taken to be one whose heartbeat stopped; a hung\n"
                 "        # deploy that still renews its heartbeat holds the lock for ever without a page.\n"
                 '        expr: deploy_lock_heartbeat_age_seconds{job="production-db"} > 60\n')


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


def retry_not_on_timeout(src: str) -> str:
    """Only connection failures are retried; an attempt that timed out fails the deploy."""
    return _must(src, 'if [ "$code" -eq 0 ] || { [ "$code" -ne 255 ] && [ "$code" -ne 124 ]; }; then\n',
                 "  # DEFECT (negative control): a timed-out attempt (124) is not retried.\n"
                 '  if [ "$code" -eq 0 ] || [ "$code" -ne 255 ]; then\n')


RULES = "monitoring/rules/runner-alerts.yml"
DEPLOY_RULES = "monitoring/rules/deploy-alerts.yml"
Transform = Callable[[str], str]
# variant -> ((reference file, its transformation), ...): one defect, in the file(s) it lives in
VARIANTS: dict[str, tuple[tuple[str, Transform], ...]] = {
    "no-failover": ((WORKFLOW, no_failover),),
    "no-health-gate": ((WORKFLOW, no_health_gate),),
    "no-concurrency": ((WORKFLOW, no_concurrency),),
    "no-concurrency-any-runner": ((WORKFLOW, no_concurrency_any_runner),),
    "no-expiry-preflight": ((WORKFLOW, no_expiry_preflight),),
    "diagnosis-without-if-failure": ((WORKFLOW, diagnosis_without_if_failure),),
    # both retry layers: the deploy's attempts and Ansible's reconnections
    "no-retry": ((WORKFLOW, no_retry), ("ansible/ansible.cfg", no_retry_connections)),
    "secondary-first": (("scripts/select-runner.sh", secondary_first),),
    "gate-fail-open": (("scripts/select-runner.sh", gate_fail_open),),
    "selection-ignores-authorization": (("scripts/select-runner.sh", selection_ignores_authorization),),
    "exporter-service-only": (("runner-exporter/runner_exporter.py", exporter_service_only),),
    "rollback-noop": ((TXN, rollback_noop),),
    "health-check-swallowed": ((PLAYBOOK, health_check_swallowed),),
    "waits-on-stdin": (("scripts/deploy.sh", waits_on_stdin),),
    "retry-not-on-timeout": (("scripts/deploy.sh", retry_not_on_timeout),),
    "notify-success-always": (("scripts/deploy.sh", notify_success_always),),
    # the state file written before the health check (state-written-before-health)
    "state-written-early": ((PLAYBOOK, state_written_early),),
    "no-rescue": ((PLAYBOOK, no_rescue_playbook), (WATCHDOG, no_rescue_watchdog)),
    "migration-not-rolled-back": ((TXN, migration_not_rolled_back),),
    "lock-not-released": ((TXN, lock_not_released),),
    "redeploy-restarts": ((RELEASE, redeploy_restarts),),
    "rollback-state-not-advanced": ((TXN, rollback_state_not_advanced),),
    "alert-wrong-metric": ((RULES, alert_wrong_metric),),
    "alert-for-too-long": ((RULES, alert_for_too_long),),
    "alert-no-for": ((RULES, alert_no_for),),
    "lock-alert-on-heartbeat": ((DEPLOY_RULES, lock_alert_on_heartbeat),),
}


def render(name: str) -> list[tuple[Path, str]]:
    """Where each of the variant's files goes, and its text."""
    return [(HERE / name / rel, transform((PIPELINE / rel).read_text())) for rel, transform in VARIANTS[name]]


def main() -> None:
    """Write every variant's files (and only them: a variant's other files are removed)."""
    import shutil

    for folder in HERE.iterdir():
        if folder.is_dir() and folder.name not in VARIANTS and folder.name != "__pycache__":
            shutil.rmtree(folder)
            print(f"removed {folder.relative_to(PIPELINE)}")
    for name in VARIANTS:
        files = render(name)
        wanted = {target for target, _ in files}
        for old in (HERE / name).rglob("*") if (HERE / name).exists() else []:
            if old.is_file() and old not in wanted:
                old.unlink()
                print(f"removed {old.relative_to(PIPELINE)}")
        for target, text in files:
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text)
            if (PIPELINE / target.relative_to(HERE / name)).stat().st_mode & 0o111:
                target.chmod(0o755)  # a host tool stays executable
            print(f"wrote {target.relative_to(PIPELINE)}")
        for folder in sorted((p for p in (HERE / name).rglob("*") if p.is_dir()), reverse=True):
            if not any(folder.iterdir()):
                folder.rmdir()


if __name__ == "__main__":
    main()
