"""harness.checks.recheck: a recorded run re-judged from its journal file alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.checks.enforce import VERDICT_OP, judge
from harness.checks.recheck import recheck
from harness.core.errors import ConfigError, Inconclusive
from harness.core.journal import Journal
from harness.core.profiles import load_profile
from harness.core.settings import project_root
from harness.core.types import Verdict

PROFILE = load_profile("nightly", project_root() / "profiles")
SELECTOR = 'up{job="github-runners",runner="primary"}'
RUN = 12


def record_failover_run(path: Path, *, with_samples: bool = True) -> Journal:
    """A journal as a failover scenario writes it: fault, Prometheus polls, trigger, GitHub events, verdict."""
    journal = Journal("rec", path, profile="nightly")
    journal.info("scenario.start", scenario="primary offline")
    onset = journal.ok("fault.inject", fault="runner_offline", fault_id="runner_offline-1", runner_role="primary")
    t0 = onset["ts_ms"] / 1000
    if with_samples:
        series = [{"metric": {"runner": "primary"}, "values": [[t0 - 1, 1.0], [t0 + 0.5, 0.0], [t0 + 1.5, 0.0]]}]
        journal.info("prometheus.range", selector=SELECTOR, window_s=60, series=series)
    journal.invoke("deploy.trigger", workflow="deploy.yml", version="1.1.0")
    journal.ok("deploy.trigger", workflow="deploy.yml", version="1.1.0", run_id=RUN)
    base = int((t0 + 0.5) * 1000)
    for seq, (kind, delay, runner) in enumerate(
        [("job.queued", 100, None), ("job.started", 1300, "runner-secondary"), ("job.completed", 9000, None)]
    ):
        event = {"seq": seq, "type": kind, "ts_ms": base + delay, "run_id": RUN, "job_key": "deploy"}
        if runner:
            event["runner_name"] = runner
        journal.info("github.event", event=event, feed="f1")
    journal.info("watch.end", source="github.event", until_ms=base + 10_000, feed="f1")
    return journal


def judge_failover(journal: Journal) -> None:
    judge(
        journal,
        "failover",
        {"failover_budget_s": 30.0},
        run_id=RUN,
        job_key="deploy",
        expected_runner="runner-secondary",
        unhealthy_selector=SELECTOR,
    )


def test_recheck_of_a_recorded_run_reproduces_its_verdicts_exactly(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    judge_failover(record_failover_run(path))
    recorded = json.loads(path.read_text().splitlines()[-1])
    assert recorded["op"] == VERDICT_OP and recorded["result"]["verdict"] == "passed"

    [again] = recheck(Journal.load(path))
    assert again.same
    assert again.recomputed.to_dict() == recorded["result"]
    assert again.recomputed.measured["failover_s"] == 1.3


def test_recheck_with_a_tighter_budget_turns_a_pass_into_a_finding(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    judge_failover(record_failover_run(path))
    [again] = recheck(Journal.load(path), {"failover_budget_s": 1.0})
    assert again.recorded["verdict"] == "passed"
    assert again.recomputed.verdict is Verdict.FAILED
    assert "over the 1 s budget" in again.recomputed.message


def test_a_journal_missing_an_observation_is_inconclusive_not_a_pass(tmp_path: Path) -> None:
    journal = record_failover_run(tmp_path / "journal.jsonl", with_samples=False)
    with pytest.raises(Inconclusive, match="no Prometheus samples"):
        judge_failover(journal)
    [again] = recheck(Journal.load(tmp_path / "journal.jsonl"))
    assert again.recomputed.verdict is Verdict.INCONCLUSIVE


def test_entries_after_the_verdict_are_not_seen_by_its_recheck(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = record_failover_run(path)
    judge_failover(journal)
    # A later (say, next scenario's) observation must not change this verdict on recheck.
    journal.info(
        "github.event",
        event={
            "seq": 9,
            "type": "job.started",
            "ts_ms": 0,
            "run_id": RUN,
            "job_key": "deploy",
            "runner_name": "runner-primary",
        },
    )
    [again] = recheck(Journal.load(path))
    assert again.same


def test_unknown_checker_in_a_journal_is_a_config_error(tmp_path: Path) -> None:
    path = tmp_path / "journal.jsonl"
    journal = Journal("x", path)
    journal.info(VERDICT_OP, request={"check": "no-such", "params": {}}, result={"verdict": "passed"})
    with pytest.raises(ConfigError, match="unknown checker 'no-such'"):
        recheck(Journal.load(path))
