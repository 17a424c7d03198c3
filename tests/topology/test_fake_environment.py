"""FakeEnvironment: a complete Environment whose faults act on the fakes and are observed through the drivers."""

from __future__ import annotations

import inspect
import time
import typing
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from harness.core.errors import ConfigError, Inconclusive
from harness.core.journal import Journal
from harness.faults.base import Fault
from harness.topology.environment import Environment
from harness.topology.fake_environment import CERT_SECRET, EXPIRED_CERT, VALID_CERT, FakeEnvironment, FakeFault
from harness.topology.state_file import STATE_FILE


@pytest.fixture
def env() -> Iterator[FakeEnvironment]:
    fake = FakeEnvironment().with_runner("primary").with_runner("secondary").with_production_version("1.0.0")
    with fake as env:
        yield env


def _protocol_methods() -> list[str]:
    return [n for n, v in vars(Environment).items() if inspect.isfunction(v) and not n.startswith("_")]


def test_every_protocol_member_exists_with_the_protocols_signature(env: FakeEnvironment) -> None:
    methods = _protocol_methods()
    assert "production_state" in methods and "runner_offline" in methods  # the protocol was read
    for name in methods:
        fake, declared = getattr(env, name), getattr(Environment, name)
        assert callable(fake), name
        expected = list(inspect.signature(declared).parameters)[1:]  # without self
        assert list(inspect.signature(fake).parameters) == expected, name


def test_every_protocol_attribute_exists_with_the_declared_type(env: FakeEnvironment) -> None:
    hints = typing.get_type_hints(Environment)
    assert set(hints) == {"journal", "profile", "pipeline", "github", "prometheus", "production", "components", "sink"}
    for name, kind in hints.items():
        assert isinstance(getattr(env, name), kind), name


def test_nightly_profile_by_default_and_budgets_can_be_overridden() -> None:
    assert FakeEnvironment().profile.name == "nightly"
    fast = FakeEnvironment(budgets={"deploy_timeout_s": 2})
    assert fast.profile.budget("deploy_timeout_s") == 2
    assert fast.journal.header["meta"]["budgets"]["deploy_timeout_s"] == 2  # journalled as used
    with pytest.raises(ConfigError, match="unknown budget"):
        FakeEnvironment(budgets={"deploy_timeout": 2})


def test_journal_path_is_optional_and_written_when_given(tmp_path: Path) -> None:
    assert FakeEnvironment().journal.path is None
    env = FakeEnvironment(journal_path=tmp_path / "journal.jsonl")
    env.production_state()
    loaded = Journal.load(tmp_path / "journal.jsonl")
    assert [e["op"] for e in loaded.entries()][-1] == "production.state_file"


def _runner_status(env: FakeEnvironment, role: str) -> str:
    return {r["name"]: r["status"] for r in env.github.runners()}[env.runner_name(role)]


def _latest(env: FakeEnvironment, selector: str) -> float:
    return env.prometheus.samples(selector, 60)[-1][1]


@dataclass(frozen=True)
class FaultCase:
    """A fault factory, and how the harness sees the world (through the drivers) with and without it."""

    make: Callable[[FakeEnvironment], Fault]
    observe: Callable[[FakeEnvironment], object]
    faulted: object
    normal: object


CASES = {
    "runner_offline": FaultCase(
        lambda e: e.runner_offline("primary"),
        lambda e: (_runner_status(e, "primary"), _latest(e, e.runner_health_selector("primary"))),
        ("offline", 0.0),
        ("online", 1.0),
    ),
    "runner_cut_off_from_github": FaultCase(
        lambda e: e.runner_cut_off_from_github("secondary"),
        lambda e: (
            _runner_status(e, "secondary"),
            _latest(e, e.runner_status_selector("secondary")),
            _latest(e, e.runner_health_selector("secondary")),
        ),
        ("offline", 0.0, 1.0),  # Prometheus still scrapes it
        ("online", 1.0, 1.0),
    ),
    "monitoring_unreachable": FaultCase(
        lambda e: e.monitoring_unreachable(), lambda e: e.prometheus.ready(), False, True
    ),
    "production_unresponsive": FaultCase(
        lambda e: e.production_unresponsive(),
        lambda e: (e.production.answers(), e.production.version()),
        (False, None),
        (True, "1.0.0"),
    ),
    "deploy_certificate_expired": FaultCase(
        lambda e: e.deploy_certificate_expired(),
        lambda e: e.fake_github.secrets[CERT_SECRET],
        EXPIRED_CERT,
        VALID_CERT,
    ),
    "release_broken": FaultCase(lambda e: e.release_broken("1.0.0"), lambda e: e.production.healthy(), False, True),
    "release_migration_fails": FaultCase(
        lambda e: e.release_migration_fails("2.0.0"), lambda e: set(e.failing_migrations), {"2.0.0"}, set()
    ),
    "deploy_lock_held": FaultCase(lambda e: e.deploy_lock_held(), lambda e: e.lock_held, True, False),
    "ssh_to_production_flaky": FaultCase(lambda e: e.ssh_to_production_flaky(3), lambda e: e.ssh_reset_every, 3, None),
}


@pytest.mark.parametrize("case", CASES.values(), ids=CASES.keys())
def test_a_fault_takes_effect_reverts_and_journals_its_window(env: FakeEnvironment, case: FaultCase) -> None:
    fault = case.make(env)
    assert isinstance(fault, FakeFault)
    assert case.observe(env) == case.normal
    with fault:
        assert case.observe(env) == case.faulted
        assert env.leftovers() != []
        assert fault.leftovers() != []
    assert case.observe(env) == case.normal
    assert env.leftovers() == []
    assert fault.leftovers() == []

    [inject] = env.journal.entries("fault.inject", "ok")
    [revert] = env.journal.entries("fault.revert", "ok")
    assert inject["fault_id"] == revert["fault_id"] == fault.fault_id
    assert inject["fault"] == fault.name and inject["took_effect"] is True
    assert (fault.onset_ms, fault.reverted_ms) == (inject["ts_ms"], revert["ts_ms"])
    assert revert["leftovers"] == []


def test_took_effect_is_observed_through_the_fake_not_assumed(
    env: FakeEnvironment, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A GitHub that never notices the runner going away: the fault did not take effect, so inconclusive."""
    monkeypatch.setattr(env.fake_github, "set_runner", lambda *args, **kwargs: None)
    with pytest.raises(Inconclusive, match="did not take effect"), env.runner_offline("primary"):
        pytest.fail("the scenario must not run on a fault that did not take effect")
    assert env.journal.last("fault.inject", "fail") is not None
    assert env.leftovers() == []  # reverted all the same


def test_runner_offline_shows_in_samples_taken_after_its_onset(env: FakeEnvironment) -> None:
    selector = env.runner_health_selector("primary")
    with env.runner_offline("primary") as fault:
        assert fault.onset_ms is not None
        time.sleep(0.003)  # the query's own scrape lands in a later millisecond than the onset
        later = [value for ts, value in env.prometheus.samples(selector, 60) if ts * 1000 > fault.onset_ms + 1]
        assert later and set(later) == {0.0}
    assert _latest(env, selector) == 1.0


def test_a_prometheus_that_is_down_does_not_scrape(env: FakeEnvironment) -> None:
    selector = env.runner_health_selector("primary")
    before = len(env.prometheus.samples(selector, 3600))
    env.fake_prometheus.answering = False
    env.scrape()
    env.fake_prometheus.answering = True
    assert len(env.fake_prometheus.client().samples(selector, 3600)) == before  # a client that does not scrape


def test_a_fault_on_an_unknown_runner_is_a_config_error() -> None:
    env = FakeEnvironment().with_runner("primary")
    with pytest.raises(ConfigError, match=r"no secondary runner; add it with \.with_runner\('secondary'\)"):
        env.runner_offline("secondary")
    with pytest.raises(ConfigError, match="registered already"):
        env.with_runner("primary")


def test_production_state_returns_and_journals_the_state(env: FakeEnvironment) -> None:
    env.with_state_file({"current_version": "1.2.3"})
    assert env.production_state() == {"state": {"current_version": "1.2.3"}}
    entry = env.journal.last("production.state_file")
    assert entry is not None and entry["type"] == "info"
    assert (entry["path"], entry["state"]) == (STATE_FILE, {"current_version": "1.2.3"})


@pytest.mark.parametrize(
    ("content", "error", "kept"),
    [
        (None, f"cannot read {STATE_FILE} on the production host: cat: {STATE_FILE}: No such file", None),
        ("{oops", f"{STATE_FILE} is not a JSON object: ", "{oops"),
        ('"text"', f"{STATE_FILE} is not a JSON object: ", '"text"'),
    ],
)
def test_production_state_returns_and_journals_the_error(
    env: FakeEnvironment, content: str | None, error: str, kept: str | None
) -> None:
    env.with_state_file(content)
    read = env.production_state()
    assert "state" not in read and read["error"].startswith(error)
    assert read.get("content") == kept
    entry = env.journal.last("production.state_file")
    assert entry is not None and entry["path"] == STATE_FILE
    assert (entry["error"], entry.get("content")) == (read["error"], kept)


def test_production_state_of_a_host_that_does_not_answer_is_an_error(env: FakeEnvironment) -> None:
    with env.production_unresponsive():
        assert env.production_state()["error"].endswith("it does not answer")


def test_complete_deploy_plays_the_pipeline(env: FakeEnvironment) -> None:
    run_id = env.github.dispatch("deploy.yml", {"version": "1.1.0"})
    job_id = env.complete_deploy(run_id, role="secondary")
    assert env.github.run(run_id)["conclusion"] == "success"
    assert env.production.version() == "1.1.0"
    assert env.production_state()["state"] == {
        "current_version": "1.1.0",
        "previous_version": "1.0.0",
        "deploy_runner": "runner-secondary",
        "deployed_by": "github-actions",
    }
    types = [(e["type"], e.get("job_id")) for e in env.github.events() if e.get("run_id") == run_id]
    assert types == [("run.queued", None), ("job.started", job_id), ("job.completed", job_id), ("run.completed", None)]

    failed = env.github.dispatch("deploy.yml", {"version": "1.2.0"})
    env.complete_deploy(failed, conclusion="failure")
    assert env.github.run(failed)["conclusion"] == "failure"
    assert env.production.version() == "1.1.0"


def test_secrets_are_configurable_and_redacted_from_the_journal() -> None:
    assert len(FakeEnvironment().secrets()) == 1  # a generated deploy key by default
    env = FakeEnvironment(secrets=["s3cret-value"])
    assert env.secrets() == ["s3cret-value"]
    env.journal.info("probe", text="the log says s3cret-value")
    assert "s3cret-value" not in str(env.journal.last("probe"))
    env.with_secrets("other-secret")
    assert env.secrets() == ["other-secret"]
    assert env.journal.last("secrets.registered") is not None
