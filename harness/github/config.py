"""Timer configuration of the simulated control plane (seconds, floats)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import asdict, dataclass, fields
from typing import Any


@dataclass
class SimConfig:
    """Timers; changed at runtime through PUT /_sim/config."""

    heartbeat_timeout_s: float = 30.0
    lease_timeout_s: float = 600.0
    queue_timeout_s: float = 300.0
    monitor_interval_s: float = 0.1
    acquire_wait_s: float = 5.0

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> SimConfig:
        """Read SIM_HEARTBEAT_TIMEOUT_S, SIM_LEASE_TIMEOUT_S, SIM_QUEUE_TIMEOUT_S, SIM_MONITOR_INTERVAL_S."""
        env = os.environ if env is None else env
        config = cls()
        for item in fields(cls):
            raw = env.get(f"SIM_{item.name.upper()}")
            if raw:
                setattr(config, item.name, float(raw))
        return config

    def update(self, values: Mapping[str, Any]) -> None:
        """Apply known keys; raises ValueError for unknown keys or non-positive numbers."""
        known = {item.name for item in fields(self)}
        unknown = sorted(set(values) - known)
        if unknown:
            raise ValueError(f"unknown config keys {unknown}; known: {sorted(known)}")
        parsed: dict[str, float] = {}
        for key, value in values.items():
            if isinstance(value, bool) or not isinstance(value, (int, float)) or value <= 0:
                raise ValueError(f"{key} must be a positive number of seconds, got {value!r}")
            parsed[key] = float(value)
        for key, value in parsed.items():
            setattr(self, key, value)

    def to_dict(self) -> dict[str, float]:
        """JSON view."""
        return asdict(self)
