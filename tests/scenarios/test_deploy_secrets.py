"""Bind features/deploy_secrets.feature (credentials, SC-004 context) to pytest."""

from pytest_bdd import scenarios

scenarios("features/deploy_secrets.feature")
