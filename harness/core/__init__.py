"""Core: domain types, errors, the journal, settings, profiles and claims, statistics, waits, redaction."""
