"""A Toxiproxy-compatible TCP proxy server (stdlib only), driven through Toxiproxy's HTTP API.

Why we ship our own: the network faults of the catalogue (latency, timeouts, resets, partitions per path) go
through a Toxiproxy-compatible proxy driven by toxiproxy-python, but no Toxiproxy server can be installed where the
harness runs: no container registry is reachable (so no Shopify image), Debian has no toxiproxy package, and there
is no Go module access to build it. The kernel has no `netem` either, so latency and jitter must come from a
userspace proxy. This package is that proxy: the Toxiproxy 2.x REST API toxiproxy-python uses, the toxics latency,
timeout, bandwidth, slow_close, reset_peer, slicer and limit_data (plus noop), and seeded per-connection randomness.
It runs with nothing but python3 (inside the Debian-based images: `PYTHONPATH=<repo> python3 -m harness.proxy`).
Where Shopify's image is available it can be used instead: the contract tests in tests/proxy run against both.

Modules: `server` (ToxiproxyServer, ServerThread), `api` (HTTP API), `engine` (proxies, connections, links),
`toxics` (toxic semantics), `seeding` (per-connection random sources), `bench` (overhead benchmark).
"""

from __future__ import annotations

from harness.proxy.api import API_VERSION
from harness.proxy.server import ServerThread, ToxiproxyServer

__all__ = ["API_VERSION", "ServerThread", "ToxiproxyServer"]
