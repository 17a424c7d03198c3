"""Tests of harness/actions."""
