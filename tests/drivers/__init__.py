"""Tests of harness/drivers."""
