"""Bind features/runner_failover.feature (US1 failover) to pytest."""

from pytest_bdd import scenarios

scenarios("features/runner_failover.feature")
