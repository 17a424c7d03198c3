"""Unit tests for harness/checks."""
