"""The server as a whole: the API listener plus the proxies, on one event loop; and a way to run it in a thread."""

from __future__ import annotations

import asyncio
import json
import logging
import threading
from pathlib import Path
from types import TracebackType

from harness.proxy.api import Api, serve_http
from harness.proxy.engine import join_host_port
from harness.proxy.seeding import fresh_seed

LOG = logging.getLogger("harness.proxy")


class ToxiproxyServer:
    """A Toxiproxy-compatible server: `await start(host, port)`, then `await close()`."""

    def __init__(self, seed: int | None = None) -> None:
        self.seed = fresh_seed() if seed is None else seed
        self.api = Api(self.seed)
        self.address = ""
        self._http: asyncio.AbstractServer | None = None
        self._clients: set[asyncio.StreamWriter] = set()  # open API connections (keep-alive)

    async def start(self, host: str = "127.0.0.1", port: int = 8474) -> None:
        """Listen for the HTTP API (port 0 picks one; see `address`)."""
        self._http = await asyncio.start_server(self._serve, host, port, reuse_address=True)
        sockname = self._http.sockets[0].getsockname()
        self.address = join_host_port(sockname[0], sockname[1])
        LOG.info("Toxiproxy-compatible API listening on %s (seed %d)", self.address, self.seed)

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self._clients.add(writer)
        try:
            await serve_http(self.api, reader, writer)
        finally:
            self._clients.discard(writer)

    async def populate_file(self, path: str | Path) -> int:
        """Create the proxies listed in a JSON config file (Toxiproxy's `-config`); returns how many."""
        items = json.loads(Path(path).read_text())
        done, error = await self.api.populate_exclusive(items)
        if error is not None:
            raise RuntimeError(f"populating from {path}: {error.message}")
        LOG.info("populated %d proxies from %s", len(done), path)
        return len(done)

    async def close(self) -> None:
        """Stop the API listener and every proxy, closing their connections."""
        if self._http is not None:
            self._http.close()
            self._http = None
        self.api.close()
        for writer in list(self._clients):
            writer.close()  # idle keep-alive API connections: their handlers see EOF and return
        for _ in range(100):
            if not self._clients:
                break
            await asyncio.sleep(0.01)


class ServerThread:
    """Run a ToxiproxyServer on its own event loop in a daemon thread (tests, benchmarks, embedding).

    Use as a context manager; `url`, `host`, `port` tell where the API is.
    """

    def __init__(self, host: str = "127.0.0.1", port: int = 0, seed: int | None = None) -> None:
        self.host, self.requested_port = host, port
        self.server = ToxiproxyServer(seed)
        self.port = 0
        self._loop: asyncio.AbstractEventLoop | None = None
        self._stopped: asyncio.Event | None = None
        self._ready = threading.Event()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="toxiproxy-server", daemon=True)

    @property
    def url(self) -> str:
        """Base URL of the API."""
        return f"http://{join_host_port(self.host, self.port)}"

    def start(self) -> ServerThread:
        """Start and wait until the API listens."""
        self._thread.start()
        if not self._ready.wait(10):
            raise RuntimeError("the proxy server did not start within 10 s")
        if self._error is not None:
            raise RuntimeError(f"the proxy server did not start: {self._error}") from self._error
        return self

    def _run(self) -> None:
        asyncio.run(self._main())

    async def _main(self) -> None:
        self._loop = asyncio.get_running_loop()
        self._stopped = asyncio.Event()
        try:
            await self.server.start(self.host, self.requested_port)
            self.port = int(self.server.address.rsplit(":", 1)[1])
        except BaseException as exc:
            self._error = exc
            self._ready.set()
            return
        self._ready.set()
        await self._stopped.wait()
        await self.server.close()

    def stop(self) -> None:
        """Stop the server and join its thread."""
        if self._loop is not None and self._stopped is not None and self._thread.is_alive():
            self._loop.call_soon_threadsafe(self._stopped.set)
        self._thread.join(timeout=10)

    def __enter__(self) -> ServerThread:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, traceback: TracebackType | None
    ) -> None:
        self.stop()
