"""Regenerate the workflow variants from the reference workflow, each with its one planted defect.

Run after changing pipeline/.github/workflows/deploy.yml: `python3 pipeline/variants/regenerate.py`.
Each variant must differ from the reference in exactly its defect, so the harness catches the
defect and nothing else; tests/pipeline/test_variants.py checks the files are current.
"""

from __future__ import annotations

from pathlib import Path

HERE = Path(__file__).resolve().parent
REFERENCE = HERE.parent / ".github" / "workflows" / "deploy.yml"
HEADER = "# Production deploy: pick"
RUNS_ON = "    runs-on: ${{ fromJSON(needs.select-runner.outputs.labels) }}\n"
CONCURRENCY = "    concurrency:\n      group: production-deploy\n      cancel-in-progress: false\n"


def _must(text: str, old: str, new: str) -> str:
    if old not in text:
        raise SystemExit(f"reference workflow no longer contains {old!r}: update regenerate.py")
    return text.replace(old, new)


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
    out = _must(src, "      - name: Diagnose the failure\n        if: failure()\n",
                "      - name: Diagnose the failure\n"
                "        # DEFECT (negative control): no `if: failure()`, so this step is skipped on failure\n")
    return out


def no_retry(src: str) -> str:
    """A single deploy attempt: a dropped SSH connection fails the deploy."""
    return _must(src, "          DEPLOY_ATTEMPTS: 3\n",
                 "          # DEFECT (negative control): no retry; one dropped connection fails the deploy.\n"
                 "          DEPLOY_ATTEMPTS: 1\n")


VARIANTS = {
    "no-failover": no_failover,
    "no-health-gate": no_health_gate,
    "no-concurrency": no_concurrency,
    "no-concurrency-any-runner": no_concurrency_any_runner,
    "no-expiry-preflight": no_expiry_preflight,
    "diagnosis-without-if-failure": diagnosis_without_if_failure,
    "no-retry": no_retry,
}


def render(name: str) -> str:
    """The variant's workflow text."""
    src = REFERENCE.read_text()
    return _must(VARIANTS[name](src), HEADER, f"# NEGATIVE CONTROL ({name}). {HEADER[2:]}")


def main() -> None:
    """Write every variant's workflow."""
    for name in VARIANTS:
        target = HERE / name / ".github" / "workflows" / "deploy.yml"
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(render(name))
        print(f"wrote {target.relative_to(HERE.parent)}")


if __name__ == "__main__":
    main()
