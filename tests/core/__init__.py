"""Tests of harness/core."""
