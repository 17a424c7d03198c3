"""Unit tests for harness/env."""
