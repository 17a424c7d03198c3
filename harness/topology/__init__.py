"""Test topologies: the environment the pipeline runs against (Docker is the first backend)."""
