"""Profiles: every timer and threshold a run uses, set explicitly and reported."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import yaml

from harness.core.errors import ConfigError

TIMER_KEYS = (
    "scrape_interval_s",
    "scrape_timeout_s",
    "evaluation_interval_s",
    "runner_heartbeat_s",
    "runner_heartbeat_timeout_s",
    "lease_renew_s",
    "lease_timeout_s",
    "queue_timeout_s",
    "exporter_stale_after_s",
    "alert_for_scale",
    "alertmanager_group_wait_s",
    "alertmanager_group_interval_s",
    "alertmanager_repeat_interval_s",
    "retry_wait_s",
    "attempt_timeout_s",
    "txn_lease_s",
    "txn_heartbeat_s",
    "watchdog_period_s",
)
BUDGET_KEYS = (
    "failover_budget_s",
    "fail_fast_budget_s",
    "unhealthy_detection_timeout_s",
    "deploy_timeout_s",
    "runner_ready_timeout_s",
    "alert_dispatch_margin_s",
    "success_trials_max",
    "recovery_budget_s",
)


@dataclass(frozen=True)
class Profile:
    """A named set of timers (how fast things tick) and budgets (what is asserted)."""

    name: str
    description: str
    timers: dict[str, float]
    budgets: dict[str, float]

    def timer(self, key: str) -> float:
        """One timer, in seconds."""
        return self.timers[key]

    def budget(self, key: str) -> float:
        """One budget, in seconds."""
        return self.budgets[key]


def available_profiles(folder: Path) -> list[str]:
    """Names of the profiles in `folder`."""
    return sorted(p.stem for p in folder.glob("*.yaml"))


def load_profile(name: str, folder: Path) -> Profile:
    """Load and validate profile `name` from `folder`; every key must be present and numeric."""
    path = folder / f"{name}.yaml"
    if not path.is_file():
        raise ConfigError(
            f"unknown profile {name!r}: no {path}. Available: {', '.join(available_profiles(folder)) or 'none'}."
        )
    try:
        data = yaml.safe_load(path.read_text()) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"profile {path} is not valid YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"profile {path} must be a mapping with 'timers' and 'budgets', got {type(data).__name__}")
    sections = {}
    for section, keys in (("timers", TIMER_KEYS), ("budgets", BUDGET_KEYS)):
        values = data.get(section)
        if not isinstance(values, dict):
            raise ConfigError(f"profile {path}: missing mapping '{section}' with keys {', '.join(keys)}")
        missing = [k for k in keys if k not in values]
        unknown = [k for k in values if k not in keys]
        if missing or unknown:
            raise ConfigError(
                f"profile {path}: section '{section}' is missing {missing} / has unknown keys "
                f"{unknown}; expected exactly {list(keys)}"
            )
        for key, value in values.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ConfigError(
                    f"profile {path}: {section}.{key} must be a positive number of seconds, got {value!r}"
                )
        sections[section] = {k: float(v) for k, v in values.items()}
    return Profile(name, str(data.get("description", "")), sections["timers"], sections["budgets"])
