"""Fault library: each fault is a context manager that injects, verifies and always reverts."""

from harness.faults.base import Fault
from harness.faults.broken_release import BrokenRelease
from harness.faults.deploy_lock import DeployLockHeld
from harness.faults.partition import NetworkPartition
from harness.faults.runner_offline import RunnerOffline
from harness.faults.service_paused import ServicePaused

__all__ = ["BrokenRelease", "DeployLockHeld", "Fault", "NetworkPartition", "RunnerOffline", "ServicePaused"]
