#!/bin/bash
# The runner agent (the "runner service") and the runner exporter, side by side.
# The exporter outlives the agent: a killed agent is reported, not hidden.
set -u
python3 -m harness.github.agent &
exec python3 /opt/exporter/runner_exporter.py
