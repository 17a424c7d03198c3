"""Drivers: clients of the services a run talks to (GitHub, Prometheus, production, the webhook sink)."""
