"""Checkers: verdicts computed afterwards from the journal and event logs."""
