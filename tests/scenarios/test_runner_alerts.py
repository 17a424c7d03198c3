"""Bind features/runner_alerts.feature (US2 alerting) to pytest."""

from pytest_bdd import scenarios

scenarios("features/runner_alerts.feature")
