"""Unit tests for harness/bootstrap."""
