"""Fault library: each fault is a context manager that injects, verifies and always reverts."""

from harness.faults.base import Fault
from harness.faults.runner_offline import RunnerOffline

__all__ = ["Fault", "RunnerOffline"]
