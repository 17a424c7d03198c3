"""Clients that read the environment: simulated GitHub, Prometheus, production."""
