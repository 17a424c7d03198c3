"""Chaos and validation harness for CI/CD production deploy pipelines."""
