"""Fixtures for the proxy contract tests: the servers under test (ours; also Shopify's when TOXIPROXY_URL is set)
and real local TCP and HTTP upstreams. Client-side measurement helpers are in support.py.

The contract tests drive the server only through toxiproxy-python. With TOXIPROXY_URL=http://host:port set, every
contract test also runs against that server (which must reach 127.0.0.1 upstreams and expose its proxies on the
address it reports, e.g. Shopify's image with host networking), so the two stay interchangeable.
"""

from __future__ import annotations

import os
import socketserver
import threading
import uuid
from collections.abc import Callable, Iterator
from http.server import ThreadingHTTPServer

import pytest
from toxiproxy import Toxiproxy
from toxiproxy.proxy import Proxy

from harness.proxy import ServerThread
from tests.proxy.support import SEED, HttpHandler, UpstreamHandler, use_server

SERVERS = ("builtin", *(("external",) if os.environ.get("TOXIPROXY_URL") else ()))


@pytest.fixture(scope="session")
def tcp_upstream() -> Iterator[str]:
    """A TCP upstream (echo / send N / send-close N) on 127.0.0.1: its `host:port`."""
    server = socketserver.ThreadingTCPServer(("127.0.0.1", 0), UpstreamHandler)
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def http_upstream() -> Iterator[str]:
    """An HTTP/1.1 keep-alive upstream on 127.0.0.1: its `host:port`."""
    server = ThreadingHTTPServer(("127.0.0.1", 0), HttpHandler)
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    yield f"127.0.0.1:{server.server_address[1]}"
    server.shutdown()
    server.server_close()


@pytest.fixture(scope="session")
def builtin_server() -> Iterator[ServerThread]:
    """Our server, in-process on a free port."""
    with ServerThread(seed=SEED) as server:
        yield server


@pytest.fixture(params=SERVERS)
def toxiproxy(request: pytest.FixtureRequest) -> Iterator[Toxiproxy]:
    """A toxiproxy-python client for each server under test; removes the proxies a test created."""
    url = request.getfixturevalue("builtin_server").url if request.param == "builtin" else os.environ["TOXIPROXY_URL"]
    client = use_server(url)
    yield client
    client = use_server(url)  # a test may have pointed the class-level consumer elsewhere
    for name, proxy in client.proxies().items():
        if name.startswith("dch_test_"):
            proxy.destroy()


@pytest.fixture
def make_proxy(toxiproxy: Toxiproxy) -> Callable[..., Proxy]:
    """Create a uniquely named proxy to `upstream`, listening on 127.0.0.1 and a free port."""

    def make(upstream: str, **kwargs: object) -> Proxy:
        return toxiproxy.create(upstream=upstream, name=f"dch_test_{uuid.uuid4().hex[:10]}", **kwargs)

    return make
