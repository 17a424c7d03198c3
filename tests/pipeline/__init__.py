"""Tests of the reference pipeline's own scripts."""
