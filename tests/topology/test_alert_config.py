"""The topology hands Prometheus scaled alert rules and Alertmanager the pipeline's routing, only timers changed."""

from __future__ import annotations

import copy
import shutil
from pathlib import Path
from typing import Any

import pytest
import yaml

from harness.core.errors import ConfigError, TopologyError
from harness.core.journal import Journal
from harness.core.pipeline_source import PipelineSource
from harness.core.profiles import load_profile
from harness.topology.docker_topology import DockerTopology, scale_rule_file
from harness.topology.fake import FakeContainerBackend

ROOT = Path("/work/main")
RULES = ROOT / "pipeline/monitoring/rules/runner-alerts.yml"
ALERTMANAGER = ROOT / "pipeline/monitoring/alertmanager.yml"
TIMERS = ("group_wait", "group_interval", "repeat_interval")


def fors(data: dict[str, Any]) -> list[str | None]:
    return [rule.get("for") for group in data["groups"] for rule in group["rules"]]


def without_fors(data: dict[str, Any]) -> dict[str, Any]:
    data = copy.deepcopy(data)
    for group in data["groups"]:
        for rule in group["rules"]:
            rule.pop("for", None)
    return data


# ---- scale_rule_file --------------------------------------------------------------------------------------------
def test_every_for_of_the_reference_rules_is_scaled() -> None:
    scaled = yaml.safe_load(scale_rule_file(RULES, 1 / 30))
    original = yaml.safe_load(RULES.read_text())
    assert fors(original) == ["5m", "10m", "1m"]
    assert fors(scaled) == ["10s", "20s", "2s"]
    assert without_fors(scaled) == without_fors(original)


def test_nightly_scale_gives_the_same_fors() -> None:
    scale = load_profile("nightly", ROOT / "profiles").timer("alert_for_scale")
    assert fors(yaml.safe_load(scale_rule_file(RULES, scale))) == ["10s", "20s", "2s"]


def test_fractional_seconds_become_milliseconds(tmp_path: Path) -> None:
    path = tmp_path / "r.yml"
    path.write_text("groups:\n- name: g\n  rules:\n  - alert: A\n    expr: up == 0\n    for: 1m30s\n")
    assert fors(yaml.safe_load(scale_rule_file(path, 1 / 60))) == ["1500ms"]


def test_rules_without_for_are_untouched(tmp_path: Path) -> None:
    path = tmp_path / "mixed.yml"
    path.write_text(
        "groups:\n"
        "  - name: recordings\n"
        "    rules:\n"
        "      - record: job:up:sum\n"
        "        expr: sum(up) by (job)\n"
        "  - name: alerts\n"
        "    rules:\n"
        "      - alert: Instant\n"
        "        expr: up == 0\n"
        "        labels: {severity: warning}\n"
        "      - alert: Slow\n"
        "        expr: up == 0\n"
        "        for: 10m\n"
        "        labels: {severity: critical}\n"
        "        annotations: {runbook: runbooks/x.md}\n"
    )
    original = yaml.safe_load(path.read_text())
    scaled = yaml.safe_load(scale_rule_file(path, 0.1))
    assert scaled["groups"][0] == original["groups"][0]
    assert scaled["groups"][1]["rules"][0] == original["groups"][1]["rules"][0]
    assert "for" not in scaled["groups"][1]["rules"][0]
    assert scaled["groups"][1]["rules"][1] == {**original["groups"][1]["rules"][1], "for": "60s"}


def test_scale_one_returns_the_bytes_unchanged(tmp_path: Path) -> None:
    path = tmp_path / "commented.yml"
    raw = b"# keep me\ngroups:\n  - name: g   # odd spacing\n    rules:\n      - {alert: A, expr: 'up == 0', for: 5m}\n"
    path.write_bytes(raw)
    assert scale_rule_file(path, 1) == raw
    assert scale_rule_file(path, 1.0) == raw
    assert scale_rule_file(RULES, 1) == RULES.read_bytes()


def test_bad_yaml_is_a_config_error_naming_the_file(tmp_path: Path) -> None:
    path = tmp_path / "broken-rules.yml"
    path.write_text("groups:\n  - name: g\n    rules: [\n      - alert: A\n")
    with pytest.raises(ConfigError) as err:
        scale_rule_file(path, 0.5)
    assert str(path) in str(err.value)


# ---- _alertmanager_config ---------------------------------------------------------------------------------------
def topology(profile: str, pipeline: Path = ROOT / "pipeline") -> DockerTopology:
    return DockerTopology(
        images={},
        pipeline=PipelineSource(pipeline),
        profile=load_profile(profile, ROOT / "profiles"),
        journal=Journal("t"),
        run_id="t",
        backend=FakeContainerBackend(),  # type: ignore[arg-type]
    )


@pytest.mark.parametrize(
    ("profile", "expected"),
    [
        ("nightly", {"group_wait": "1s", "group_interval": "1s", "repeat_interval": "60s"}),
        ("maintenance-window", {"group_wait": "30s", "group_interval": "300s", "repeat_interval": "14400s"}),
    ],
)
def test_alertmanager_timers_come_from_the_profile(profile: str, expected: dict[str, str]) -> None:
    config = yaml.safe_load(topology(profile)._alertmanager_config())
    assert {k: config["route"][k] for k in TIMERS} == expected


def test_alertmanager_routes_and_receivers_are_kept() -> None:
    config = yaml.safe_load(topology("nightly")._alertmanager_config())
    original = yaml.safe_load(ALERTMANAGER.read_text())
    assert config["receivers"] == original["receivers"]
    assert {k: v for k, v in config["route"].items() if k not in TIMERS} == {
        k: v for k, v in original["route"].items() if k not in TIMERS
    }
    assert config["route"]["receiver"] == "oncall"
    assert config["receivers"][0]["webhook_configs"][0]["url"] == "http://webhook-sink:8080/oncall"
    assert set(config) == set(original)


def test_nightly_timers_differ_from_the_pipelines_own() -> None:
    config = yaml.safe_load(topology("nightly")._alertmanager_config())
    original = yaml.safe_load(ALERTMANAGER.read_text())
    assert all(config["route"][k] != original["route"][k] for k in TIMERS)


def test_missing_alertmanager_config_is_a_topology_error(tmp_path: Path) -> None:
    repo = tmp_path / "pipeline"
    shutil.copytree(ROOT / "pipeline", repo)
    (repo / "monitoring/alertmanager.yml").unlink()
    with pytest.raises(TopologyError, match=r"monitoring/alertmanager\.yml"):
        topology("nightly", repo)._alertmanager_config()


def route_nodes(route: dict[str, Any]) -> list[dict[str, Any]]:
    """`route` and every route nested under it."""
    return [route, *(node for child in route.get("routes", []) for node in route_nodes(child))]


def test_child_routes_do_not_keep_production_timers(tmp_path: Path) -> None:
    """A child route's own timers override the root's in Alertmanager: they must follow the profile too."""
    repo = tmp_path / "pipeline"
    shutil.copytree(ROOT / "pipeline", repo)
    (repo / "monitoring/alertmanager.yml").write_text(
        "route:\n"
        "  receiver: oncall\n"
        "  group_by: [alertname, runner]\n"
        "  group_wait: 30s\n"
        "  group_interval: 5m\n"
        "  repeat_interval: 4h\n"
        "  routes:\n"
        "    - receiver: pager\n"
        "      matchers: ['severity=\"critical\"']\n"
        "      group_wait: 30s\n"
        "      group_interval: 5m\n"
        "      repeat_interval: 4h\n"
        "      routes:\n"
        "        - receiver: pager\n"
        "          matchers: ['runner=\"primary\"']\n"
        "          group_wait: 45s\n"
        "receivers:\n"
        "  - name: oncall\n"
        "    webhook_configs: [{url: 'http://webhook-sink:8080/oncall', send_resolved: true}]\n"
        "  - name: pager\n"
        "    webhook_configs: [{url: 'http://webhook-sink:8080/pager', send_resolved: true}]\n"
    )
    config = yaml.safe_load(topology("nightly", repo)._alertmanager_config())
    expected = {"group_wait": "1s", "group_interval": "1s", "repeat_interval": "60s"}
    nodes = route_nodes(config["route"])
    assert [n["receiver"] for n in nodes] == ["oncall", "pager", "pager"]  # the routing tree is kept
    assert nodes[2]["matchers"] == ['runner="primary"']
    stale = [{k: n[k] for k in TIMERS if k in n and n[k] != expected[k]} for n in nodes]
    assert stale == [{}, {}, {}], "a route keeps the pipeline's production timers instead of the profile's"
