"""Bind features/deploy_success_rate.feature (SC-001, SC-002) to pytest."""

from pytest_bdd import scenarios

scenarios("features/deploy_success_rate.feature")
