"""Unit tests for harness/topology."""
