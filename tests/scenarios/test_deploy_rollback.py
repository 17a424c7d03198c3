"""Bind features/deploy_rollback.feature (US3 rollback) to pytest."""

from pytest_bdd import scenarios

scenarios("features/deploy_rollback.feature")
