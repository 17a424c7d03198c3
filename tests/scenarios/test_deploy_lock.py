"""Bind features/deploy_lock.feature (US3 stale deploy lock) to pytest."""

from pytest_bdd import scenarios

scenarios("features/deploy_lock.feature")
