"""Unit tests for harness/faults."""
