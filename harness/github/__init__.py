"""Simulated GitHub Actions: control plane (server) and runner agent.

Stdlib + PyYAML only: this package is copied into minimal containers.
"""
