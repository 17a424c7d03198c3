"""harness.checks.production: every component at one version, no residue, a redeploy that changes nothing."""

from __future__ import annotations

from typing import Any

import pytest

from harness.checks.history import History, MissingObservation
from harness.checks.production import judge_components_at, judge_no_change, judge_no_residue
from harness.core.types import CheckRequest, Verdict

HOSTS = ("prod-web-1", "prod-web-2")


def entry(op: str, seq: int, **data: Any) -> dict[str, Any]:
    return {"seq": seq, "op": op, "type": "info", "ts_ms": 1000 + seq, **data}


def components(seq: int, **versions: str | None) -> dict[str, Any]:
    return entry("production.sample", seq, probe="components", versions=versions, errors={})


def test_components_at_passes_when_every_component_agrees_with_the_baseline() -> None:
    history = History(
        [
            entry("scenario.baseline", 0, version="1.0.0"),
            components(1, **{"backend@prod-web-1": "1.0.0", "schema": "1.0.0"}),
        ]
    )
    assert judge_components_at(history, CheckRequest("components_at", {"baseline": True})).verdict is Verdict.PASSED


def test_components_at_names_the_components_off_the_version() -> None:
    history = History(
        [components(1, **{"backend@prod-web-1": "2.0.0", "schema": "1.0.0", "frontend@prod-web-2": None})]
    )
    result = judge_components_at(history, CheckRequest("components_at", {"version": "2.0.0"}))
    assert result.verdict is Verdict.FAILED
    assert "'schema': '1.0.0'" in result.message and "'frontend@prod-web-2': None" in result.message


def test_components_at_without_a_sample_is_missing_not_passed() -> None:
    with pytest.raises(MissingObservation):
        judge_components_at(History([]), CheckRequest("components_at", {"version": "1.0.0"}))


@pytest.mark.parametrize(
    ("files", "txns", "verdict"),
    [
        ({h: [] for h in HOSTS}, [], Verdict.PASSED),
        ({"prod-web-1": ["/opt/app/.fetch-4.1.0-77.tar.gz"], "prod-web-2": []}, [], Verdict.FAILED),
        ({h: [] for h in HOSTS}, [{"id": 3, "runner": "runner-primary/run-9/attempt-1"}], Verdict.FAILED),
    ],
)
def test_no_residue(files: dict[str, list[str]], txns: list[dict[str, Any]], verdict: Verdict) -> None:
    history = History([entry("production.residue", 1, files=files, open_transactions=txns)])
    assert judge_no_residue(history, CheckRequest("no_residue")).verdict is verdict


def test_no_residue_that_could_not_be_listed_is_missing() -> None:
    history = History([entry("production.residue", 1, files={}, error="ConnectError: refused")])
    with pytest.raises(MissingObservation, match="could not be listed"):
        judge_no_residue(history, CheckRequest("no_residue"))


RECAP_ZERO = "PLAY RECAP ***\nprod-web-1 : ok=12 changed=0 unreachable=0\nprod-web-2 : ok=12 changed=0 unreachable=0\n"


def redeploy(after: dict[str, str], log: str) -> History:
    return History(
        [
            entry("production.backend_started", 1, started={"prod-web-1": "100.1", "prod-web-2": "100.2"}),
            entry("github.jobs", 2, run_id=7, jobs=[{"id": 70, "name": "deploy"}]),
            entry("github.job_log", 3, job_id=70, log=log),
            entry("production.backend_started", 4, started=after),
        ]
    )


def test_a_redeploy_that_changed_nothing_passes() -> None:
    history = redeploy({"prod-web-1": "100.1", "prod-web-2": "100.2"}, RECAP_ZERO)
    result = judge_no_change(history, CheckRequest("no_change", {"run_id": 7}))
    assert result.verdict is Verdict.PASSED and result.measured == {"hosts_restarted": 0, "changed_tasks": 0}


def test_a_redeploy_that_restarted_a_backend_is_a_finding() -> None:
    history = redeploy(
        {"prod-web-1": "100.1", "prod-web-2": "250.0"}, RECAP_ZERO.replace("changed=0 unr", "changed=2 unr", 1)
    )
    result = judge_no_change(history, CheckRequest("no_change", {"run_id": 7}))
    assert result.verdict is Verdict.FAILED
    assert "restarted ['prod-web-2']" in result.message and "'prod-web-1': 2" in result.message


def test_a_redeploy_without_a_recap_cannot_be_judged() -> None:
    history = redeploy({"prod-web-1": "100.1", "prod-web-2": "100.2"}, "no ansible here")
    with pytest.raises(MissingObservation, match="PLAY RECAP"):
        judge_no_change(history, CheckRequest("no_change", {"run_id": 7}))
